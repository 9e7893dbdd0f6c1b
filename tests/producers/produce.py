#!/usr/bin/python3
"""One code-generation workflow with confluent-kafka: started, four stages, completed.

Usage: produce.py BOOTSTRAP WORKFLOW_ID
"""
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone

from confluent_kafka import Producer


def envelope(event_type, at, payload):
    return {
        "envelope_version": "1.0",
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "event_version": "1.0",
        "event_timestamp": at.isoformat(timespec="milliseconds"),
        "source_service": "codegen-python",
        "payload": payload,
    }


def main():
    bootstrap, workflow_id = sys.argv[1], sys.argv[2]
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    failed = []

    def on_delivery(err, msg):
        if err is not None:
            failed.append(f"{msg.topic()}: {err}")

    start = datetime.now(timezone.utc) - timedelta(minutes=5)

    def send(topic, event_type, second, **fields):
        event = envelope(event_type, start + timedelta(seconds=second),
                         {"workflow_id": workflow_id, **fields})
        producer.produce(f"dev.omninode-bridge.codegen.{topic}.v1",
                         key=workflow_id, value=json.dumps(event),
                         on_delivery=on_delivery)

    send("generation-started", "NODE_GENERATION_STARTED", 0,
         node_type="compute", domain="ml")
    stages = [("prompt_parsing", 900), ("intelligence_gathering", 2500),
              ("contract_building", 1800), ("code_generation", 12000)]
    for number, (name, ms) in enumerate(stages, start=1):
        send("stage-completed", "NODE_GENERATION_STAGE_COMPLETED", number,
             stage_name=name, stage_number=number, duration_ms=ms,
             success=True, tokens_consumed=400 * number)
    send("generation-completed", "NODE_GENERATION_COMPLETED", 5,
         node_type="compute", domain="ml", total_duration_seconds=17.2,
         quality_score=0.72, total_tokens=4000, total_cost_usd=0.06)

    if producer.flush(30) or failed:
        sys.exit(f"not delivered: {failed or 'timed out'}")


if __name__ == "__main__":
    main()
