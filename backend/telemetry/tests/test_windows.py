"""The window format has one definition: parsing, formatting and the API schema agree."""
import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry.windows import MAX_WINDOW, UNIT_SECONDS, WINDOW_SCHEMA_PATTERN, format_window, parse_window


@given(st.integers(min_value=1, max_value=int(MAX_WINDOW.total_seconds())))
def test_every_window_up_to_the_limit_formats_to_text_that_parses_back(seconds):
    window = timedelta(seconds=seconds)
    assert parse_window(format_window(window)) == window


@given(st.text(alphabet="0123456789smhdxy ", max_size=8))
def test_the_schema_pattern_accepts_exactly_the_syntax_the_parser_accepts(text):
    try:
        parse_window(text)
        parsed_syntax = True
    except ValueError as error:
        parsed_syntax = "followed by" not in str(error)
    assert parsed_syntax == bool(re.fullmatch(WINDOW_SCHEMA_PATTERN, text))


@pytest.mark.parametrize("text", ["5m", "2h", "30d", "90s"])
def test_a_window_keeps_its_own_form(text):
    assert format_window(parse_window(text)) == text


def test_every_unit_is_a_whole_number_of_seconds_and_one_is_a_second():
    assert min(UNIT_SECONDS.values()) == 1


@pytest.mark.django_db
def test_the_served_schema_states_the_window_format_of_windows_py(client):
    document = client.get("/api/schema/?format=json").json()
    window = next(parameter for parameter in document["paths"]["/api/stats/avg/"]["get"]["parameters"]
                  if parameter["name"] == "window")
    assert window["schema"]["pattern"] == WINDOW_SCHEMA_PATTERN
    assert window["description"].endswith(f"at most {format_window(MAX_WINDOW)}.")
