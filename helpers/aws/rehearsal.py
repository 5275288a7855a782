"""Inside the rehearsal process of ``functions.rehearse``: the note app's handler against a
throwaway in-memory DynamoDB (moto's mock, as in the unit tests).

moto's mock patches botocore for every thread of the process it runs in, and the handler
reads its table and region from ``os.environ``. In the kernel, a button click's boto3 calls
(on another thread) would reach the mock and the variables would outlive the rehearsal, so
both happen here, in a short-lived process of its own, run as a script (it needs nothing of
the lab's package).

The job comes on stdin (``events``, ``table_name``, ``region``, ``result_file``); the
handler's responses, in order, go to ``result_file`` as JSON, leaving stdout to the
handler's own prints.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import boto3
from moto import mock_aws

from note_app import handler


def rehearse(job: dict) -> list[dict]:
    """Create the table with the handler's key, then call the handler with each event."""
    os.environ[handler.TABLE_NAME_VARIABLE] = job["table_name"]
    os.environ[handler.REGION_VARIABLE] = job["region"]
    with mock_aws():
        boto3.client("dynamodb", region_name=job["region"]).create_table(
            TableName=job["table_name"],
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": handler.KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": handler.KEY, "AttributeType": "S"}],
        )
        return [handler.lambda_handler(event, None) for event in job["events"]]


if __name__ == "__main__":
    job = json.load(sys.stdin)
    responses = rehearse(job)
    Path(job["result_file"]).write_text(json.dumps(responses), encoding="utf-8")
