"""The handlers' other doors: every event envelope, platform contexts, credentials, logs and deadlines."""

import json

from tests.e2e.conftest import HOME
from tests.e2e.test_replication import golden, writes
from tests.helpers import handlers
from tests.helpers.events import load_event


class FunctionGraphContext:
    """The FunctionGraph Python context's methods that imsync uses."""

    def __init__(self, ak, sk, token, remaining_ms=300_000, request_id="fg-req-1"):
        self._creds, self._remaining, self._request_id = (ak, sk, token), remaining_ms, request_id

    def getSecurityAccessKey(self):
        return self._creds[0]

    def getSecuritySecretKey(self):
        return self._creds[1]

    def getSecurityToken(self):
        return self._creds[2]

    def getRemainingTimeInMilliSeconds(self):
        return self._remaining

    def getRequestID(self):
        return self._request_id


class LambdaContext:
    aws_request_id = "lambda-req-7"
    function_name = "imsync-replicate"

    def __init__(self, remaining_ms=300_000):
        self._remaining = remaining_ms

    def get_remaining_time_in_millis(self):
        return self._remaining


def test_eventgrid_batch_replicates_every_image_it_names(cloud, imsync_env):
    first, second = golden(cloud, regions="cn-east-3", name="a"), golden(cloud, regions="cn-east-3", name="b")
    event = json.loads(
        json.dumps(load_event("eventgrid_batch.json", image_id=first.id)).replace(
            "00000000-0000-0000-0000-0000000000bb", second.id
        )
    )

    result = handlers.replicate_on_create(event)

    assert result["counts"] == {"started": 2}, result
    assert all(len(cloud.region("cn-east-3").replicas_of(i.id)) == 1 for i in (first, second))


def test_eventbridge_envelope_of_a_forwarded_cts_record(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")

    result = handlers.replicate_on_create(load_event("eventbridge_cts.json", image_id=image.id))

    assert result["counts"] == {"started": 1}, result


def test_add_tag_and_batch_tag_records_opt_an_existing_image_in(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    for sample in ("cts_add_tag.json", "cts_batch_tags_action.json", "cts_update_image.json"):
        handlers.replicate_on_create(load_event(sample, image_id=image.id))

    assert len(cloud.region("cn-east-3").replicas_of(image.id)) == 1


def test_completion_event_naming_a_replica_finalizes_just_that_one(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3", tags={"imsync-share": "partner"})
    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id))
    cloud.run_until_idle()
    (replica,) = cloud.region("cn-east-3").replicas_of(image.id)

    result = handlers.share_on_complete(load_event("completion.json", image_id=replica.id, region="cn-east-3"))

    assert result["ok"], result
    done = [r for r in result["results"] if r["action"] == "finalize"]
    assert [(r["region"], r["outcome"], r["replica_id"]) for r in done] == [("cn-east-3", "done", replica.id)]
    assert cloud.region("cn-east-3").image(replica.id).tags["imsync-source"] == image.id


def test_completion_event_for_an_image_that_is_no_replica_is_ignored(cloud, imsync_env):
    plain = cloud.region(HOME).add_image(name="plain")

    result = handlers.share_on_complete(load_event("cts_replica_update.json", image_id=plain.id))

    assert result["results"][0]["outcome"] == "ignored"
    assert writes(cloud) == []


def test_timer_options_can_narrow_the_dr_run(cloud, imsync_env):
    chosen, other = golden(cloud, regions="cn-east-3", name="a"), golden(cloud, regions="cn-east-3", name="b")

    result = handlers.scheduled_dr_copy({"image_ids": [chosen.id]})

    assert result["counts"] == {"started": 1}
    assert cloud.region("cn-east-3").replicas_of(other.id) == []


def test_functiongraph_agency_credentials_win_over_the_environment(cloud, imsync_env, monkeypatch):
    image = golden(cloud, regions="cn-east-3")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "stale-key-that-would-fail")
    context = FunctionGraphContext(*cloud.temporary_credentials())

    result = handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id), context)

    assert result["counts"] == {"started": 1}, result


def test_expired_agency_credentials_give_an_auth_error_and_no_write(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    context = FunctionGraphContext(*cloud.temporary_credentials(duration_seconds=60))
    cloud.clock.advance(120)

    result = handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id), context)

    assert result["ok"] is False
    assert "credentials were not accepted" in json.dumps(result)
    assert writes(cloud) == []


def test_no_credentials_at_all_is_a_clear_configuration_error(cloud, imsync_env, monkeypatch):
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK")
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK")

    result = handlers.scheduled_dr_copy({})

    assert result["error_type"] == "ConfigError"
    assert "no Huawei Cloud credentials" in result["error"]


def test_log_lines_carry_the_request_id_of_either_platform(cloud, imsync_env, capfd):
    image = golden(cloud, regions="cn-east-3")
    fg = FunctionGraphContext(*cloud.temporary_credentials(), request_id="fg-req-42")

    handlers.replicate_on_create(load_event("cts_create_image.json", image_id=image.id), fg)
    handlers.scheduled_dr_copy({}, LambdaContext())

    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    decisions = [line for line in lines if line["message"] == "decision"]
    assert {"fg-req-42", "lambda-req-7"} <= {line.get("request_id") for line in decisions}
    copy = next(line for line in decisions if line["action"] == "copy")
    assert {"image_id", "region", "action", "outcome", "reason"} <= set(copy)


def test_retries_stop_when_the_function_is_about_to_time_out(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")
    cloud.faults.add(status=503, method="GET", path=r"/v2/cloudimages", count=None)

    result = handlers.replicate_on_create(
        load_event("cts_create_image.json", image_id=image.id), LambdaContext(remaining_ms=9_000)
    )

    reads = [r for r in cloud.requests if r.method == "GET" and "cloudimages" in r.path]
    assert len(reads) == 1  # no time left for a backoff: the next run picks it up
    assert result["ok"] is False and "Service unavailable" in json.dumps(result)


def test_no_call_starts_without_the_time_to_finish_it(cloud, imsync_env):
    image = golden(cloud, regions="cn-east-3")

    result = handlers.replicate_on_create(
        load_event("cts_create_image.json", image_id=image.id), LambdaContext(remaining_ms=4_000)
    )

    assert not [r for r in cloud.requests if r.region != "iam"]  # not even a read: nothing half-done
    assert "out of time" in json.dumps(result)
