"""Reading a Prometheus /metrics endpoint in tests: every sample, parsed."""
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def parse_samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition, keyed by (sample name, frozenset of its label pairs)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(port: int, host: str = "127.0.0.1", path: str = "/metrics", timeout: float = 5.0) -> dict:
    """GET http://host:port/metrics and parse it (see `parse_samples`)."""
    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=timeout) as response:
        return parse_samples(response.read().decode("utf-8"))


def sample(samples: dict, name: str, **labels: str) -> float:
    """One sample's value; 0.0 when the exposition does not have it (a labelled counter not yet moved)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for_sample(port: int, name: str, expected: float, timeout: float = 15.0, **labels: str) -> dict:
    """Scrape until sample `name{labels}` equals `expected`; fail with its last value if it never does."""
    from devtools.waiting import wait_until

    last: list[float] = []

    def reached():
        try:
            samples = scrape(port)
        except OSError:
            return None
        last.append(sample(samples, name, **labels))
        return samples if last[-1] == expected else None

    try:
        return wait_until(reached, timeout=timeout, interval=0.1)
    except AssertionError:
        raise AssertionError(f"{name}{labels} is {last[-1] if last else 'unreachable'}, not {expected}, "
                             f"after {timeout} s") from None
