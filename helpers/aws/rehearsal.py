"""Chapter 03's rehearsal (``functions.rehearse``): the note app's handler against a
throwaway in-memory DynamoDB (moto's mock, as in the unit tests).

moto's mock patches botocore for every thread of the process it runs in, and the handler
reads its table and region from ``os.environ``. In the kernel, a button click's boto3 calls
(on another thread) would reach the mock and the variables would outlive the rehearsal, so
both happen in a short-lived process of its own, this module run as a script (it needs
nothing of the lab's package). Under the in-process backend (the browser, where no process
can be started) ``rehearse`` runs in the kernel instead, its environment set and restored
around it (``helpers.core.sandbox``): the kernel's mock is already there, and the rehearsal's
table lives in an account of its own (``MOTO_ACCOUNT_ID`` in that environment), deleted at
the end.

The job comes on stdin (``events``, ``table_name``, ``region``, ``result_file``); the
handler's responses, in order, go to ``result_file`` as JSON, leaving stdout to the
handler's own prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3

from note_app import handler


def rehearse(job: dict) -> list[dict]:
    """Create the table with the handler's key, call the handler with each event, then
    delete the table."""
    # moto takes about a second to load: imported when a rehearsal runs, not with the lab
    from moto import mock_aws

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=job["region"])
        dynamodb.create_table(
            TableName=job["table_name"],
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": handler.KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": handler.KEY, "AttributeType": "S"}],
        )
        try:
            return [handler.lambda_handler(event, None) for event in job["events"]]
        finally:
            dynamodb.delete_table(TableName=job["table_name"])


if __name__ == "__main__":
    job = json.load(sys.stdin)
    responses = rehearse(job)
    Path(job["result_file"]).write_text(json.dumps(responses), encoding="utf-8")
