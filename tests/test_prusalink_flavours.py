"""Both PrusaLink firmware families: Buddy (MK4S) and the Raspberry Pi PrusaLink (MK3S).

The backend and the config flow run against each flavour of the simulator; the
MK3S flavour's own quirks (digest, nonce lifetime, API key, HTTP/1.0, deferred
commands) are checked with a plain HTTP client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import httpx
import pytest
import pytest_socket

from custom_components.print_sentinel.const import DOMAIN
from custom_components.print_sentinel.printers.base import (
    PrinterAuthError,
    PrinterCommandRefused,
    PrinterResponseError,
    PrinterState,
)
from custom_components.print_sentinel.printers.prusalink import PrusaLinkBackend
from simulators.prusalink import PrusaLinkSimulator
from simulators.prusalink.__main__ import parse_args
from simulators.prusalink.flavour import default_serial, get_flavour

PASSWORD = "flavour-Secret-pw"
SERIALS = {"mk4s": "10589-3742441634599999", "mk3s": "CZPX4720X004XC12345"}

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(params=["mk4s", "mk3s"])
async def sim(request: pytest.FixtureRequest) -> AsyncGenerator[PrusaLinkSimulator]:
    """A simulator of each firmware family."""
    flavour: str = request.param
    simulator = PrusaLinkSimulator(PASSWORD, serial=SERIALS[flavour], flavour=flavour)
    await simulator.start()
    simulator.advance(10)  # past the MK3S's start-up without telemetry
    yield simulator
    await simulator.stop()


@pytest.fixture
async def mk3s() -> AsyncGenerator[PrusaLinkSimulator]:
    """The Raspberry Pi PrusaLink flavour."""
    simulator = PrusaLinkSimulator(PASSWORD, flavour="mk3s", api_key="key-4711")
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def client() -> AsyncGenerator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def _settled(sim: PrusaLinkSimulator) -> None:
    """Let a command the MK3S answered before acting take effect."""
    await asyncio.sleep(0.2)


async def test_identity_names_the_printer_not_the_cloud(
    client: httpx.AsyncClient, sim: PrusaLinkSimulator
) -> None:
    identity = await PrusaLinkBackend(
        client, sim.url, "maker", PASSWORD
    ).async_get_identity()
    assert identity.unique_id == SERIALS[sim.flavour.name]
    if sim.flavour.name == "mk3s":
        assert identity.model == "MK3S"
        assert identity.name == "Prusa MK3S 2345"
        assert identity.hostname is None  # connect.prusa3d.com is not this printer
    else:
        assert identity.model == "MK4S"
        assert identity.name == "Prusa MK4S"


async def test_print_pause_resume_cancel_through_the_backend(
    client: httpx.AsyncClient, sim: PrusaLinkSimulator
) -> None:
    backend = PrusaLinkBackend(client, sim.url, "maker", PASSWORD)
    sim.start_job("Benchy_0.4n_0.2mm_PETG_MK3S_1h0m.gcode", "PETG", 3600)
    sim.advance(60)
    snapshot = await backend.async_poll()
    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.job is not None
    assert snapshot.job.name == "Benchy_0.4n_0.2mm_PETG_MK3S_1h0m.gcode"
    assert snapshot.material == "PETG"
    assert snapshot.nozzle_temperature is not None

    await backend.async_pause()
    await _settled(sim)
    assert (await backend.async_poll()).state is PrinterState.PAUSED
    with pytest.raises(PrinterCommandRefused):
        await backend.async_pause()  # a second pause: 409 on both
    await backend.async_resume()
    await _settled(sim)
    assert (await backend.async_poll()).state is PrinterState.PRINTING
    await backend.async_cancel()
    await _settled(sim)
    stopped = await backend.async_poll()
    assert stopped.state is PrinterState.STOPPED
    # the MK3S drops the job once stopped; Buddy keeps showing it
    assert (stopped.job is None) is (sim.flavour.name == "mk3s")


async def test_backend_survives_missing_fields_after_start(
    client: httpx.AsyncClient,
) -> None:
    async with PrusaLinkSimulator(PASSWORD, flavour="mk3s") as sim:
        backend = PrusaLinkBackend(client, sim.url, "maker", PASSWORD)
        early = await backend.async_poll()
        assert early.state is PrinterState.IDLE
        assert early.nozzle_temperature is None
        sim.advance(10)
        assert (await backend.async_poll()).nozzle_temperature is not None


async def test_config_flow_adds_either_family(
    hass: HomeAssistant, sim: PrusaLinkSimulator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "prusalink"}
    )
    fields = {CONF_HOST: sim.url, CONF_USERNAME: "maker", CONF_PASSWORD: "wrong"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    fields[CONF_PASSWORD] = PASSWORD
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIALS[sim.flavour.name]
    expected = "Prusa MK3S 2345" if sim.flavour.name == "mk3s" else "Prusa MK4S"
    assert result["title"] == expected
    await hass.async_block_till_done()
    states = [s for s in hass.states.async_all("sensor") if s.state == "idle"]
    assert states, "the printer's state sensor shows the printer idle"


async def test_mk3s_digest_challenge_and_nonce_lifetime(
    client: httpx.AsyncClient, mk3s: PrusaLinkSimulator
) -> None:
    answer = await client.get(f"{mk3s.url}/api/v1/status")
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert 'realm="Administrator"' in challenge
    assert 'qop="auth"' in challenge
    assert 'algorithm="MD5-sess"' in challenge
    assert answer.http_version == "HTTP/1.0"
    assert answer.headers.get("Connection") != "keep-alive"

    auth = httpx.DigestAuth("maker", PASSWORD)
    assert (await client.get(f"{mk3s.url}/api/v1/status", auth=auth)).is_success
    mk3s.reset_counters()
    assert (await client.get(f"{mk3s.url}/api/v1/status", auth=auth)).is_success
    assert mk3s.count(status=401) == 0  # the nonce is reused within its window
    mk3s.advance(121)  # past any nonce's lifetime
    assert (await client.get(f"{mk3s.url}/api/v1/status", auth=auth)).is_success
    assert mk3s.count(status=401) == 1  # one stale challenge, then the new nonce


async def test_mk3s_api_key_is_its_own(
    client: httpx.AsyncClient, mk3s: PrusaLinkSimulator
) -> None:
    url = f"{mk3s.url}/api/v1/status"
    wrong = await client.get(url, headers={"X-Api-Key": PASSWORD})
    assert wrong.status_code == 403
    assert wrong.text == "Bad X-Api-Key."
    assert (await client.get(url, headers={"X-Api-Key": "key-4711"})).is_success


async def test_mk3s_shapes(client: httpx.AsyncClient, mk3s: PrusaLinkSimulator) -> None:
    key = {"X-Api-Key": "key-4711"}
    version = (await client.get(f"{mk3s.url}/api/version", headers=key)).json()
    assert "printer" not in version
    assert "version" not in version
    assert version["original"] == "PrusaLink I3MK3S"
    info = (await client.get(f"{mk3s.url}/api/v1/info", headers=key)).json()
    assert info["name"] == ""
    assert info["hostname"] == "connect.prusa3d.com"
    mk3s.advance(10)
    mk3s.start_job("Long name with spaces.gcode", "PLA", 600)
    status = (await client.get(f"{mk3s.url}/api/v1/status", headers=key)).json()
    assert isinstance(status["storage"], list)
    job = (await client.get(f"{mk3s.url}/api/v1/job", headers=key)).json()
    assert job["file"]["name"] == "Long name with spaces.gcode"
    assert job["file"]["path"].startswith("/PrusaLink gcodes/")
    download = await client.get(
        f"{mk3s.url}{job['file']['refs']['download']}", headers=key
    )
    assert download.is_success
    assert b"filament_type = PLA" in download.content
    thumbnail = job["file"]["refs"]["thumbnail"]
    png = await client.get(f"{mk3s.url}{thumbnail}", headers=key)
    assert png.content.startswith(b"\x89PNG")
    printer = (await client.get(f"{mk3s.url}/api/printer", headers=key)).json()
    assert printer["telemetry"]["material"] == "PLA"


async def test_mk3s_commands_answer_before_acting(
    client: httpx.AsyncClient, mk3s: PrusaLinkSimulator
) -> None:
    key = {"X-Api-Key": "key-4711"}
    job_id = mk3s.start_job("part.gcode", "PLA", 600)
    url = f"{mk3s.url}/api/v1/job/{job_id}"
    assert (await client.put(f"{url}/pause", headers=key)).status_code == 204
    assert mk3s.state == "PRINTING"  # answered, not yet done
    assert (await client.put(f"{url}/pause", headers=key)).status_code == 409
    await asyncio.sleep(0.2)
    assert mk3s.state == "PAUSED"
    assert (await client.put(f"{url}/pause", headers=key)).status_code == 409
    mk3s.set_state("ATTENTION")
    assert (await client.put(f"{url}/continue", headers=key)).status_code == 204
    mk3s.advance(1)
    assert mk3s.state == "ATTENTION"  # continue does nothing there
    assert (await client.delete(url, headers=key)).status_code == 204
    mk3s.advance(1)  # the clock moving on carries the command out too
    assert mk3s.state == "STOPPED"
    assert (await client.delete(url, headers=key)).status_code == 409  # again: 409
    status = (await client.get(f"{mk3s.url}/api/v1/status", headers=key)).json()
    assert "job" not in status


def test_cli_flavour_and_serial_per_port() -> None:
    args = parse_args(["--flavour", "mk3s", "--port", "8081"])
    assert args.flavour == "mk3s"
    assert args.serial is None
    mk3s = get_flavour("mk3s")
    assert default_serial(mk3s, 8081) != default_serial(mk3s, 8082)
    assert default_serial(mk3s, 8081) == default_serial(mk3s, 8081)
    mk4s = get_flavour("MK4S")
    assert len(default_serial(mk4s, 8080)) == len("10589-3742441634512345")
    with pytest.raises(ValueError, match="unknown flavour"):
        get_flavour("mk2")
    with pytest.raises(SystemExit):
        parse_args(["--flavour", "mk2"])


async def test_mk3s_api_key_needs_no_challenge(
    client: httpx.AsyncClient, mk3s: PrusaLinkSimulator
) -> None:
    backend = PrusaLinkBackend(client, mk3s.url, "maker", "", api_key="key-4711")
    mk3s.advance(10)
    mk3s.start_job("part_0.4n_0.2mm_PETG_MK3S_1h.gcode", "PETG", 3600)
    for _ in range(4):  # past two nonce lifetimes
        assert (await backend.async_poll()).state is PrinterState.PRINTING
        mk3s.advance(61)
    await backend.async_pause()
    await _settled(mk3s)
    assert (await backend.async_poll()).state is PrinterState.PAUSED
    with pytest.raises(PrinterCommandRefused):
        await backend.async_pause()
    await backend.async_resume()
    await _settled(mk3s)
    await backend.async_continue()  # a no-op there, and no error
    await backend.async_cancel()
    await _settled(mk3s)
    assert (await backend.async_poll()).state is PrinterState.STOPPED
    assert mk3s.count(status=401) == 0
    assert mk3s.count(status=403) == 0


async def test_mk3s_wrong_api_key_is_an_auth_error(
    client: httpx.AsyncClient, mk3s: PrusaLinkSimulator
) -> None:
    backend = PrusaLinkBackend(client, mk3s.url, "maker", PASSWORD, api_key=PASSWORD)
    with pytest.raises(PrinterAuthError):
        await backend.async_poll()
    mk3s.start_job("part.gcode", "PLA", 600)
    backend._job_id = mk3s.job_id  # as if a poll had seen the job
    with pytest.raises(PrinterAuthError):
        await backend.async_pause()


@pytest.mark.parametrize("key", ["", "with space", "line\nbreak", "x" * 300])
def test_unusable_api_key_is_refused(client: httpx.AsyncClient, key: str) -> None:
    with pytest.raises(ValueError, match="API key"):
        PrusaLinkBackend(client, "127.0.0.1", "maker", "pw", api_key=key)


async def test_mk3s_api_key_command_errors(
    client: httpx.AsyncClient, mk3s: PrusaLinkSimulator
) -> None:
    backend = PrusaLinkBackend(client, mk3s.url, "maker", "", api_key="key-4711")
    mk3s.start_job("part.gcode", "PLA", 600)
    backend._job_id = 9999  # a job the printer no longer has
    with pytest.raises(PrinterCommandRefused, match="gone"):
        await backend.async_resume()
    backend._job_id = mk3s.job_id
    mk3s.faults.server_error = True
    with pytest.raises(PrinterResponseError, match="HTTP 500"):
        await backend.async_pause()


async def test_config_flow_takes_the_mk3s_api_key(
    hass: HomeAssistant, mk3s: PrusaLinkSimulator
) -> None:
    """The Raspberry Pi PrusaLink's own key: checked, kept, used instead of Digest."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "prusalink"}
    )
    fields = {
        CONF_HOST: mk3s.url,
        CONF_USERNAME: "maker",
        CONF_PASSWORD: PASSWORD,
        CONF_API_KEY: "key\nwith a line break",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    assert result["errors"] == {CONF_API_KEY: "invalid_api_key"}
    fields[CONF_API_KEY] = "not-the-key"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    assert result["errors"] == {"base": "invalid_auth"}
    fields[CONF_API_KEY] = " key-4711 "
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == "key-4711"
    await hass.async_block_till_done()
    mk3s.requests.clear()
    entry = result["result"]
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert mk3s.requests, "the printer was read after the reload"
    assert all(r.status != 401 for r in mk3s.requests), "no Digest challenge"

    # reconfigure without retyping the key keeps it
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: mk3s.url, CONF_USERNAME: "maker", CONF_PASSWORD: PASSWORD},
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_API_KEY] == "key-4711"

    # at a new host (the same printer at a new address) the saved key is not sent
    await hass.async_block_till_done()
    mk3s.requests.clear()
    pytest_socket.socket_allow_hosts(["127.0.0.1", "127.0.0.2"])  # the new address
    new_host = await mk3s.add_listener("127.0.0.2")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: new_host, CONF_USERNAME: "maker", CONF_PASSWORD: PASSWORD},
    )
    assert result["reason"] == "reconfigure_successful"
    assert not entry.data.get(CONF_API_KEY)  # Digest with the password typed
    # the check at the new host signed in with Digest (a challenge), not the key
    assert any(r.status == 401 for r in mk3s.requests)
