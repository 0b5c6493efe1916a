#!/usr/bin/env python3
"""A Nexus Control client in Python: one decision's whole lifecycle over gRPC.

Requests a decision, has two approvers approve it, executes it with the null adapter,
exports its audit package and verifies the package's binding digest here, in Python,
from the canonical JSON rules of the interchange format. Then watches the decision from
the start, drops the stream after a few events, and resumes from the last checkpoint
token it kept: it must get exactly the remaining events, then `caught_up`. Prints one JSON object with
the results and exits 0 when every check passed, 1 otherwise.

The stubs are generated from proto/ beforehand, e.g.

    protoc -I proto --python_out=STUBS --grpc_python_out=STUBS \
        --plugin=protoc-gen-grpc_python=$(command -v grpc_python_plugin) \
        proto/google/rpc/*.proto proto/nexus/control/v1/*.proto

and passed with --stubs STUBS.
"""

import argparse
import datetime
import hashlib
import json
import sys


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="HOST:PORT of the server")
    parser.add_argument("--stubs", required=True, help="directory with the generated Python stubs")
    parser.add_argument("--requester-token", required=True)
    parser.add_argument("--approver-token", action="append", required=True, help="give it twice: two distinct approvers")
    parser.add_argument("--executor-token", help="default: the requester's token")
    parser.add_argument("--auditor-token", help="default: the requester's token")
    parser.add_argument("--timeout", type=float, default=20.0, help="deadline of each call, in seconds")
    args = parser.parse_args()
    if len(args.approver_token) != 2:
        parser.error("give --approver-token exactly twice")
    return args


def canonical_json(value):
    """The canonical JSON of the interchange formats: sorted keys, no whitespace, raw UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(value):
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def binding_digest(package_version, control_digest, router_digest, link_digest):
    return "sha256:" + sha256_hex(
        {
            "package_version": package_version,
            "control_digest": control_digest,
            "router_digest": router_digest,
            "control_router_link_digest": link_digest,
        }
    )


def unprefixed(digest):
    return digest[len("sha256:"):] if isinstance(digest, str) and digest.startswith("sha256:") else digest


def verify_package(package):
    """The checks a Python auditor can run with nothing but the standard library."""
    checks = []

    def check(name, expected, actual):
        checks.append({"name": name, "ok": expected == actual, "expected": expected, "actual": actual})

    binding = package["binding"]
    bundle = package["control_bundle"]
    check(
        "binding_digest",
        package["integrity"]["binding_digest"],
        binding_digest(package["package_version"], binding["control_digest"], binding["router_digest"], binding["control_router_link_digest"]),
    )
    bundle_digest = "sha256:" + sha256_hex({key: bundle[key] for key in ("bundle_version", "decision", "events", "template_snapshot", "router_link")})
    check("control_bundle_digest", bundle["integrity"]["canonical_digest"], bundle_digest)
    check("binding_control_match", binding["control_digest"], bundle_digest)
    router_section_digest = package["router"]["ref"]["digest"] if package["router"]["mode"] == "reference" else package["router"]["bundle"]["integrity"]["canonical_digest"]
    check("binding_router_match", binding["router_digest"], router_section_digest)
    link = bundle["router_link"]
    check("binding_link_match", binding["control_router_link_digest"], link.get("control_router_link_digest"))
    link_digest = "sha256:" + sha256_hex(
        {
            "decision_id": bundle["decision"]["decision_id"],
            "run_id": link["run_id"],
            "router_request_digest": unprefixed(link["router_request_digest"]),
            "router_result_digest": unprefixed(link["router_result_digest"]),
        }
    )
    check("link_digest_recomputes", link["control_router_link_digest"], link_digest)
    bad_events = [event["seq"] for event in bundle["events"] if sha256_hex({"event_type": event["type"], "payload": event["payload"]}) != event["digest"]]
    check("event_digests_recompute", [], bad_events)
    check("seq_without_gaps", list(range(len(bundle["events"]))), [event["seq"] for event in bundle["events"]])
    return checks


def watch_resume(decisions, decisions_pb2, empty_pb2, metadata, timeout, decision_id, keep):
    """Reads `keep` events from the start, disconnects, resumes after the last token kept."""
    first = []
    stream = decisions.WatchDecisions(
        decisions_pb2.WatchDecisionsRequest(decision_id=decision_id, from_start=empty_pb2.Empty()),
        metadata=metadata,
        timeout=timeout,
    )
    for response in stream:
        if response.WhichOneof("content") == "event":
            first.append(response.event)
            if len(first) == keep:
                break
    stream.cancel()
    token = first[-1].checkpoint

    rest = []
    caught_up = None
    stream = decisions.WatchDecisions(decisions_pb2.WatchDecisionsRequest(decision_id=decision_id, after=token), metadata=metadata, timeout=timeout)
    for response in stream:
        kind = response.WhichOneof("content")
        if kind == "event":
            rest.append(response.event)
        elif kind == "caught_up":
            caught_up = response.caught_up.checkpoint
            break
    stream.cancel()
    return {
        "first_seqs": [event.seq for event in first],
        "resumed_after": token,
        "resumed_seqs": [event.seq for event in rest],
        "resumed_digests": [event.digest for event in rest],
        "generations": sorted({event.generation for event in first + rest}),
        "caught_up": caught_up,
    }


def main():
    args = parse_args()
    sys.path.insert(0, args.stubs)
    # Imported here: the stubs exist only once generated.
    import grpc
    from google.protobuf import empty_pb2, timestamp_pb2
    from google.rpc import error_details_pb2, status_pb2
    from nexus.control.v1 import (
        approvals_pb2,
        approvals_pb2_grpc,
        audit_pb2,
        audit_pb2_grpc,
        decisions_pb2,
        decisions_pb2_grpc,
        execution_pb2,
        execution_pb2_grpc,
        types_pb2,
    )

    # The canonicalizer must reproduce the format's published vector before anything else.
    vector = binding_digest("0.6", "sha256:aaa", "sha256:bbb", "sha256:ccc")
    if vector != "sha256:b9b80da7429447c915a40ddaaefe963edfe3951adcb5ae2631d243faa0d3d901":
        print(json.dumps({"ok": False, "error": "canonical JSON does not reproduce the binding digest vector", "got": vector}))
        return 1

    channel = grpc.insecure_channel(args.server)
    grpc.channel_ready_future(channel).result(timeout=args.timeout)
    decisions = decisions_pb2_grpc.DecisionServiceStub(channel)
    approvals = approvals_pb2_grpc.ApprovalServiceStub(channel)
    execution = execution_pb2_grpc.ExecutionServiceStub(channel)
    audit = audit_pb2_grpc.AuditServiceStub(channel)

    def auth(token):
        return [("authorization", "Bearer " + token)]

    def call(method, request, token):
        return method(request, metadata=auth(token), timeout=args.timeout)

    executor_token = args.executor_token or args.requester_token
    auditor_token = args.auditor_token or args.requester_token
    status_name = types_pb2.DecisionStatus.Name

    created = call(
        decisions.CreateDecision,
        decisions_pb2.CreateDecisionRequest(
            goal="rotate the signing key",
            plan="generate\npublish\nretire the old key",
            mode=types_pb2.MODE_DRY_RUN,
            policy=types_pb2.PolicyInput(min_approvals=2, labels=types_pb2.StringList(values=["security"])),
        ),
        args.requester_token,
    ).decision
    decision_id = created.decision_id
    states = [status_name(created.status)]

    expires = timestamp_pb2.Timestamp()
    expires.FromDatetime(datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(hours=1))
    first = call(approvals.Approve, approvals_pb2.ApproveRequest(decision_id=decision_id, comment="checked the runbook", expires_at=expires), args.approver_token[0]).decision
    states.append(status_name(first.status))

    # A domain error as a Python client sees it: the gRPC status, the plain trailer and the rich status.
    error_probe = {}
    try:
        call(approvals.Approve, approvals_pb2.ApproveRequest(decision_id=decision_id), args.approver_token[0])
        error_probe["raised"] = False
    except grpc.RpcError as error:
        trailers = dict(error.trailing_metadata() or ())
        reason = None
        details = trailers.get("grpc-status-details-bin")
        if details is not None:
            status = status_pb2.Status.FromString(details)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    reason = info.reason
        error_probe = {"raised": True, "grpc_status": error.code().name, "nexus_error_code": trailers.get("nexus-error-code"), "error_info_reason": reason}

    second = call(approvals.Approve, approvals_pb2.ApproveRequest(decision_id=decision_id), args.approver_token[1]).decision
    states.append(status_name(second.status))

    executed = call(execution.Execute, execution_pb2.ExecuteRequest(decision_id=decision_id, adapter_id="null"), executor_token)
    states.append(status_name(executed.decision.status))
    router_response = json.loads(executed.router_response_json)

    exported = call(audit.ExportAuditPackage, audit_pb2.ExportAuditPackageRequest(decision_id=decision_id, mode=audit_pb2.ROUTER_MODE_REFERENCE), auditor_token)
    package = json.loads(exported.package_json)
    checks = verify_package(package)
    server_report = call(audit.VerifyAuditPackage, audit_pb2.VerifyAuditPackageRequest(package_json=exported.package_json), auditor_token)

    listed = call(decisions.ListEvents, decisions_pb2.ListEventsRequest(decision_id=decision_id), auditor_token).events
    watch = watch_resume(decisions, decisions_pb2, empty_pb2, auth(auditor_token), args.timeout, decision_id, keep=3)
    watch_ok = (
        watch["first_seqs"] == [0, 1, 2]
        and watch["resumed_seqs"] == list(range(3, len(listed)))
        and watch["resumed_digests"] == [event.digest for event in listed[3:]]
        and watch["caught_up"] is not None
    )

    ok = (
        states == ["DECISION_STATUS_PENDING_APPROVAL", "DECISION_STATUS_PENDING_APPROVAL", "DECISION_STATUS_APPROVED", "DECISION_STATUS_COMPLETED"]
        and executed.execution.run_id == router_response["run_id"]
        and package["integrity"]["binding_digest"] == exported.binding_digest
        and all(entry["ok"] for entry in checks)
        and server_report.ok
        and error_probe.get("nexus_error_code") == "ALREADY_APPROVED"
        and error_probe.get("error_info_reason") == "ALREADY_APPROVED"
        and watch_ok
    )
    print(
        json.dumps(
            {
                "ok": ok,
                "decision_id": decision_id,
                "states": states,
                "approvers": [approval.actor.id for approval in executed.decision.approvals],
                "executor": executed.execution.actor.id,
                "run_id": executed.execution.run_id,
                "binding_digest": exported.binding_digest,
                "python_checks": checks,
                "server_verification": {"ok": server_report.ok, "passed": server_report.passed, "total": server_report.total},
                "error_probe": error_probe,
                "event_count": len(listed),
                "watch": watch,
                "runtime": {"python": sys.version.split()[0], "grpcio": grpc.__version__},
            },
            indent=2,
        )
    )
    channel.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
