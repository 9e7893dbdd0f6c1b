// One code-generation workflow with kafkajs: started, four stages, completed.
// Usage: node produce.js BOOTSTRAP WORKFLOW_ID   (npm install kafkajs@2)
'use strict';
const { randomUUID } = require('crypto');
const { Kafka, Partitioners, logLevel } = require('kafkajs');

async function main([bootstrap, workflowId]) {
  const kafka = new Kafka({ clientId: 'codegen-node', brokers: [bootstrap], logLevel: logLevel.WARN });
  // the default partitioner hashes keys like the Java client (murmur2)
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const start = Date.now() - 5 * 60 * 1000;

  const send = (topic, eventType, second, fields) =>
    producer.send({
      topic: `dev.omninode-bridge.codegen.${topic}.v1`,
      acks: -1,
      messages: [{
        key: workflowId,
        value: JSON.stringify({
          envelope_version: '1.0',
          event_id: randomUUID(),
          event_type: eventType,
          event_timestamp: new Date(start + second * 1000).toISOString(),
          source_service: 'codegen-node',
          metadata: { producer: 'kafkajs' },
          payload: { workflow_id: workflowId, ...fields },
        }),
      }],
    });

  await producer.connect();
  try {
    await send('generation-started', 'NODE_GENERATION_STARTED', 0,
      { node_type: 'orchestrator', domain: 'infrastructure' });
    const stages = [['prompt_parsing', 1100], ['intelligence_gathering', 2900],
      ['contract_building', 2000], ['code_generation', 14000]];
    for (const [i, [name, ms]] of stages.entries()) {
      await send('stage-completed', 'NODE_GENERATION_STAGE_COMPLETED', i + 1,
        { stage_name: name, stage_number: i + 1, duration_ms: ms, success: true });
    }
    await send('generation-completed', 'NODE_GENERATION_COMPLETED', 5,
      { node_type: 'orchestrator', domain: 'infrastructure', total_duration_seconds: 20.0,
        quality_score: 0.85, total_tokens: 3600, total_cost_usd: 0.05 });
  } finally {
    await producer.disconnect();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
