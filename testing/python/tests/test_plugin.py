"""The plugin itself, each case a pytest session run inside the test (pytester): clear errors
when burrowd cannot start or dies, an already running broker used through BURROW_AMQP_URL,
and the three ways to ask for --record."""

import os
import signal
import textwrap

import pytest

import pytest_burrow

PLUGIN_DIR = os.path.dirname(os.path.abspath(pytest_burrow.__file__))

USES_BURROW = """
def test_uses_the_broker(burrow):
    assert burrow.now() > 0
"""


@pytest.fixture
def inner(pytester, monkeypatch):
    """inner(source, *args) -> the result of a pytest run of `source` in a subprocess, with
    this pytest_burrow loaded."""
    monkeypatch.setenv("PYTHONPATH", PLUGIN_DIR)
    monkeypatch.delenv("BURROW_AMQP_URL", raising=False)
    monkeypatch.delenv("BURROW_HTTP_URL", raising=False)

    def run(source, *args):
        pytester.makepyfile(test_inner=textwrap.dedent(source))
        return pytester.runpytest_subprocess("-p", "pytest_burrow", "-p", "no:cacheprovider",
                                             "-rs", *args)
    return run


def test_a_missing_binary_is_a_clear_error(inner):
    result = inner(USES_BURROW, "--burrowd", "/nonexistent/burrowd")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*pytest_burrow: burrowd not found ('/nonexistent/burrowd')*"])


def test_a_broker_that_exits_at_start_shows_its_stderr(inner, pytester):
    fake = pytester.path / "fake-burrowd"
    fake.write_text("#!/bin/sh\necho 'unrecognised option --frobnicate' >&2\nexit 2\n")
    fake.chmod(0o755)
    result = inner(USES_BURROW + USES_BURROW.replace("uses_the", "uses_again_the"),
                   "--burrowd", str(fake))
    # Every test that needs the broker errors with the same message; none hangs.
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*burrowd exited with 2 before it was ready*",
                                 "*unrecognised option --frobnicate*"])


def test_a_silent_broker_times_out(inner, pytester):
    fake = pytester.path / "silent-burrowd"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    pytester.makeini("[pytest]\nburrow_start_timeout = 0.5\n")
    result = inner(USES_BURROW, "--burrowd", str(fake))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*burrowd printed no ready line within 0.5 s*"])


def test_a_broker_that_dies_fails_the_next_test_with_its_stderr(inner):
    result = inner("""
        import os, signal

        def test_kills_the_broker(burrow):
            burrow.proc.send_signal(signal.SIGKILL)
            burrow.proc.wait()

        def test_after_it(burrow):
            pass
    """)
    # The first test errors at teardown, the second at setup; both name the exit.
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*pytest_burrow: burrowd died (exit -%d)*" % signal.SIGKILL])


def test_burrow_amqp_url_uses_a_running_broker(inner, monkeypatch, burrow):
    monkeypatch.setenv("BURROW_AMQP_URL", burrow.url)
    monkeypatch.setenv("BURROW_HTTP_URL", burrow.http_url)
    result = inner("""
        import os

        def test_attached(burrow, amqp_url):
            assert burrow.proc is None
            assert amqp_url == os.environ["BURROW_AMQP_URL"]
            assert burrow.now() > 0
    """)
    result.assert_outcomes(passed=1)


def test_a_broker_without_controls_skips_burrow_but_serves_amqp_url(inner, monkeypatch, burrow):
    # A port where no management API answers stands in for RabbitMQ without burrowd's controls.
    monkeypatch.setenv("BURROW_AMQP_URL", burrow.url)
    monkeypatch.setenv("BURROW_HTTP_URL", "http://127.0.0.1:9")
    result = inner("""
        import pika

        def test_needs_controls(burrow):
            pass

        def test_needs_only_the_url(amqp_url):
            pika.BlockingConnection(pika.URLParameters(amqp_url)).close()
    """)
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*needs burrowd's test controls: GET http://127.0.0.1:9*"])


def test_burrow_clock_system_lets_real_time_pass(inner, pytester):
    pytester.makeini("[pytest]\nburrow_clock = system\n")
    result = inner("""
        import time
        import pytest
        import pytest_burrow

        def test_system_clock(burrow):
            assert abs(burrow.now() - time.time() * 1000) < 60000
            with pytest.raises(pytest_burrow.BurrowError) as e:
                burrow.advance(1000)
            assert e.value.status == 400
    """)
    result.assert_outcomes(passed=1)


RECORDS = """
import pytest
{marker}
def test_records(burrow):
    assert burrow.published() == []
"""


@pytest.mark.parametrize("how", ["flag", "ini", "marker"])
def test_record_is_asked_by_flag_ini_or_marker(inner, pytester, how):
    args = ["--burrow-record"] if how == "flag" else []
    if how == "ini":
        pytester.makeini("[pytest]\nburrow_record = true\n")
    marker = "@pytest.mark.burrow_record" if how == "marker" else ""
    inner(RECORDS.format(marker=marker), *args).assert_outcomes(passed=1)


def test_without_record_published_says_how_to_turn_it_on(inner):
    result = inner("""
        import pytest
        import pytest_burrow

        def test_records(burrow):
            with pytest.raises(pytest_burrow.BurrowError) as e:
                burrow.published()
            assert e.value.status == 400
            assert "start burrowd with --record" in str(e.value)
    """)
    result.assert_outcomes(passed=1)


def test_published_rejects_unknown_filters(burrow_broker):
    with pytest.raises(TypeError, match="queue"):
        burrow_broker.published(queue="billing")
