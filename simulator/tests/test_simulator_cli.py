"""The command line keeps the contract's names and defaults and refuses what cannot work."""
import pytest

from simulator import device_ids, parse_args


def test_defaults_are_the_contracts():
    args = parse_args([])
    assert device_ids(args) == ["device-001"]
    assert (args.interval, args.drop_rate, args.qos, args.count, args.duration) == (1.0, 30, 1, None, None)
    assert not args.single_connection


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--device-id", "boiler-7"], ["boiler-7"]),
        (["--devices", "3"], ["device-001", "device-002", "device-003"]),
        (["--device-id", "lab", "--devices", "2"], ["lab-001", "lab-002"]),
    ],
)
def test_device_id_and_devices_name_one_device_or_a_fleet(argv, expected):
    assert device_ids(parse_args(argv)) == expected


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--devices", "0"], "--devices must be at least 1"),
        (["--interval", "0"], "--interval must be at least 0.001"),
        (["--drop-rate", "-1"], "--drop-rate"),
        (["--count", "0"], "--count must be at least 1"),
        (["--silent-after", "5"], "go together"),
        (["--qos", "3"], "invalid choice"),
        (["--device-id", "bad/id"], "invalid device id"),
        (["--device-id", "x" * 62, "--devices", "2"], "invalid device id"),
        (["--devices", "3", "--connections", "4"], "--connections must be between 1 and the number of devices"),
        (["--devices", "3", "--connections", "0"], "--connections must be between 1"),
        (["--devices", "3", "--connections", "2", "--single-connection"], "--single-connection is --connections 1"),
    ],
)
def test_impossible_options_are_refused_with_a_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
