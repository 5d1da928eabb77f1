from __future__ import annotations

from tests.harness import Server


async def test_register_create_join_and_watch(server: Server) -> None:
    host = await server.person("host")
    listener = await server.person()
    space = await host.create_space("Hello")
    async with host.events(space["id"]) as stream:
        assert stream.snapshot["space"]["id"] == space["id"]
        await listener.join(space["id"])
        joined = await stream.next("participant_joined")
        assert joined["participant"]["user"]["id"] == listener.id
        count = await stream.next("audience_count")
        assert count["count"] == 1  # listeners not on the stage
