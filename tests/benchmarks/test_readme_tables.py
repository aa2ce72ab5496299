"""README.md's replay and cost tables are the benchmarks' output, not typed text.

The replay table is generated from `benchmarks/results/replay.json`, the per-seed
tallies that `scripts/bench replay --write-readme` stores after the full run. These
tests regenerate the table from that file, check the file is a full run, and
replay two of its seeds through today's corpus and policies: a change to either
that moves a figure fails here until the benchmark is run again. The cost table
is cheap, so it is measured again (the real client against the loopback
simulator) and compared whole.
"""

from __future__ import annotations

import pytest

from benchmarks import corpus, corpus_client, cost, replay

# phcc blocks creating sockets; connecting stays limited to 127.0.0.1
pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


@pytest.fixture(scope="module")
def stored() -> replay.Report:
    """The stored full run."""
    return replay.load_results()


def test_readme_replay_table_is_generated_from_the_stored_run(
    stored: replay.Report,
) -> None:
    block = replay.TABLE.block()
    assert block, "README.md has no replay table between its markers"
    assert block == replay.readme_table(stored)


def test_stored_run_is_the_full_run(stored: replay.Report) -> None:
    assert stored.seeds == tuple(range(replay.SEEDS))
    assert [k.name for k in stored.kinds] == [k.name for k in corpus.KINDS]
    assert list(stored.players) == replay.contenders()
    assert len(corpus.KINDS) >= 30
    assert replay.SEEDS >= 30
    tally = stored.tally(replay.TARGET_INTERVAL, "sentinel", "medium")
    assert tally.prints == len(corpus.KINDS) * replay.SEEDS * len(corpus.STYLES)


@pytest.mark.parametrize("seed", [0, 17])
def test_stored_seeds_match_a_replay_today(stored: replay.Report, seed: int) -> None:
    again = replay.run(
        seeds=(seed,),
        intervals=(replay.TARGET_INTERVAL,),
        players=stored.players,
        workers=1,
    )
    for contender in stored.players:
        label = contender.label
        assert (
            again.by_seed[replay.TARGET_INTERVAL][label][seed]
            == stored.by_seed[replay.TARGET_INTERVAL][label][seed]
        ), f"{label}, seed {seed}: run scripts/bench replay --write-readme"


def test_default_meets_its_targets_in_the_stored_run(stored: replay.Report) -> None:
    assert replay.target_problems(stored) == []


def test_write_readme_refuses_a_narrowed_run() -> None:
    with pytest.raises(SystemExit):
        replay.main(["--write-readme", "--seed", "0"])


async def test_readme_cost_table_is_measured_again() -> None:
    block = cost.TABLE.block()
    assert block, "README.md has no cost table between its markers"
    assert block == cost.readme_table(await cost.run_alternatives())


async def test_generated_verdicts_are_what_the_real_client_returns() -> None:
    # the corpus's verdicts, scripted into the OpenAI simulator and read back
    # through OpenAIDetector (errors as HTTP 503), check by check
    kinds = [
        corpus.kind_named(name)
        for name in ("fail_detachment_errors", "good_clip_errors", "fail_blob")
    ]
    checks, mismatches = await corpus_client.scripted(kinds, (3,), 20.0)
    assert checks > 100
    assert mismatches == 0


def test_replay_prints_its_figures_with_the_seed_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kinds = ("good_bed_clip", "fail_detachment")
    args = ["--seed", "4", "--interval", "30", "--workers", "1", "--scenario", *kinds]
    assert replay.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("# replay: 2 scenario kinds (1 good, 1 failures, 0 ")
    assert "x seed 4 x 2 detector styles" in out[0]
    assert "a check every 30 s" in out[0]
    header = out[3].split()
    assert header[:3] == ["interval", "sensitivity", "policy"]
    rows = [line.split() for line in out[4:] if line.startswith("30 s")]
    # sentinel and obico at three sensitivities, the other anchors once
    assert len(rows) == 3 * 2 + 3
    figures = [line for line in out if line.startswith("replay.")]
    assert figures[-1].startswith("replay.elapsed: ")


def test_readme_poll_table_is_generated_from_the_stored_run() -> None:
    from benchmarks import poll as poll_ha

    stored = poll_ha.load_results()
    assert set(stored["figures"]) == {"mk3s", "mk3s-key", "mk4s"}
    assert poll_ha.TABLE.block() == poll_ha.readme_table(stored)


def test_stored_poll_run_matches_a_run_today() -> None:
    """Requests, 401s and delays of the MK4S day are deterministic (frozen clock,
    seeded day): a change to the polling that moves them fails here until
    `scripts/bench poll --write-readme` is run again. CPU is not compared."""
    import json
    import subprocess
    import sys

    from benchmarks import poll as poll_ha

    stored = poll_ha.load_results()
    code = (
        "import json; from benchmarks import poll as poll_ha; "
        f"r, _ = poll_ha.run(('mk4s',), {stored['seed']!r}, {stored['print_hours']!r}); "
        "print(json.dumps(poll_ha.figures(r['mk4s'])))"
    )
    # its own process: the benchmark runs a Home Assistant of its own
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    today = json.loads(done.stdout.strip().splitlines()[-1])
    expected = stored["figures"]["mk4s"]
    for name in poll_ha.MEASURED_CPU:
        del today[name], expected[name]
    assert today == expected


def test_readme_push_table_is_generated_from_the_stored_run() -> None:
    from benchmarks import repetier_push

    stored = repetier_push.load_results()
    block = repetier_push.TABLE.block()
    assert block, "README.md has no push table between its markers"
    assert block == repetier_push.readme_table(stored)


def test_stored_push_run_is_the_default_run_and_matches_a_run_today() -> None:
    """The push day is deterministic (frozen clock, seeded scenarios) but for a
    step of delay: a change to the socket or the polling that moves a figure
    fails here until `scripts/bench repetier_push --write-readme` is run again."""
    import json
    import subprocess
    import sys

    from benchmarks import repetier_push

    stored = repetier_push.load_results()
    defaults = vars(repetier_push.parse_args([]))
    assert stored["scenario"] == {name: defaults[name] for name in stored["scenario"]}
    # its own process: the benchmark runs a Home Assistant of its own
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.repetier_push", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    today = json.loads(done.stdout.strip().splitlines()[-1])
    expected = stored["figures"]
    # a loaded machine can let a pushed event land one simulated step later
    for name in ("state_delay_median_s", "state_delay_max_s"):
        for got, want in zip(today.pop(name), expected.pop(name), strict=True):
            assert abs(got - want) <= 1, (name, got, want)
    assert today == expected


def test_push_write_readme_refuses_a_narrowed_run() -> None:
    from benchmarks import repetier_push

    with pytest.raises(SystemExit):
        repetier_push.main(["--write-readme", "--seeds", "1"])


def test_readme_host_table_is_generated_from_a_stored_default_run() -> None:
    """Host times differ by machine, so the stored run is not measured again here
    (tests/benchmarks/test_host_cost_bench.py runs the benchmark short)."""
    from benchmarks import host_cost

    stored = host_cost.load_results()
    defaults = vars(host_cost.parse_args([]))
    assert stored["runs"] == {name: defaults[name] for name in stored["runs"]}
    block = host_cost.TABLE.block()
    assert block, "README.md has no host-cost table between its markers"
    assert block == host_cost.readme_table(stored)
    assert not stored["figures"]["import_ours"]["openai"]


def test_host_write_readme_refuses_a_narrowed_run() -> None:
    from benchmarks import host_cost

    with pytest.raises(SystemExit):
        host_cost.main(["--write-readme", "--runs", "1"])
