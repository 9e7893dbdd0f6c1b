#!/bin/sh
# One code-generation workflow with kcat: started, four stages, completed.
# Flat JSON, one message per line; -k keys every message by the workflow id.
# Usage: kcat.sh BOOTSTRAP WORKFLOW_ID
set -eu
bootstrap=$1
wf=$2
now=$(date -u +%s)

# the event time: five minutes ago plus $1 seconds (GNU date)
at() { date -u -d "@$((now - 300 + $1))" +%Y-%m-%dT%H:%M:%SZ; }
send() { kcat -P -b "$bootstrap" -t "$1" -k "$wf"; }

printf '{"event_type":"CODEGEN_STARTED","timestamp":"%s","workflow_id":"%s","node_type":"effect","domain":"api"}\n' \
        "$(at 0)" "$wf" | send dev.omninode-bridge.codegen.generation-started.v1

# stage NUMBER NAME DURATION_MS
stage() {
        printf '{"event_type":"CODEGEN_STAGE_COMPLETED","timestamp":"%s","workflow_id":"%s","stage_name":"%s","stage_number":%d,"duration_ms":%d,"success":true}\n' \
                "$(at "$1")" "$wf" "$2" "$1" "$3"
}
{
        stage 1 prompt_parsing 1200
        stage 2 intelligence_gathering 3400
        stage 3 contract_building 2100
        stage 4 code_generation 15000
} | send dev.omninode-bridge.codegen.stage-completed.v1

printf '{"event_type":"CODEGEN_COMPLETED","timestamp":"%s","workflow_id":"%s","node_type":"effect","domain":"api","total_duration_seconds":21.7,"quality_score":0.91,"total_tokens":3200,"total_cost_usd":0.048}\n' \
        "$(at 5)" "$wf" | send dev.omninode-bridge.codegen.generation-completed.v1
