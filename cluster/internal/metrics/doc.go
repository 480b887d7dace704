// Package metrics exports a Gale process's metrics in the Prometheus
// format: Handler serves /metrics on every `gale worker` (and on
// `gale run --ui`). Each worker exports the tasks it runs itself, so a
// Prometheus that scrapes every worker sees each task once; sum over the
// worker and task labels for a component or a topology.
//
// The values are read from the engine at each scrape (there is nothing to
// update on the hot path): counters are cumulative since the task started
// on this worker, so they restart from zero when a task moves to another
// worker or its topology is rebalanced, which rate() and increase()
// handle as a counter reset. Latencies are summaries of the sampled
// tuples (one in 16): rate(x_sum)/rate(x_count) is the mean over a
// window.
//
// # Labels
//
//   - worker: the worker's name (every series).
//   - topology: the topology's name.
//   - component: the spout's or bolt's id; kind: "spout" or "bolt";
//     task: the task id (as in `gale describe` and the API).
//   - topic, partition: a Kafka partition, on the gale_kafka_partition_* series.
//   - name: a custom metric's name, on gale_task_custom_total.
//
// # Metrics
//
// The per-task series carry topology, component, kind, task and worker.
//
//	name                                               type     labels                  what
//	gale_worker_info                                   gauge    worker, version         always 1
//	gale_topology_uptime_seconds                       gauge    topology, worker        since the topology's runtime started on this worker
//	gale_topology_start_time_seconds                   gauge    topology, worker        when it started (Unix time); a new value: the counters restarted
//	gale_task_emitted_total                            counter  task                    tuples emitted (one per emit call)
//	gale_task_transferred_total                        counter  task                    tuples delivered to tasks (fan-out counted)
//	gale_task_acked_total                              counter  task                    spouts: trees completed; bolts: inputs acked
//	gale_task_failed_total                             counter  task                    spouts: trees failed or timed out; bolts: inputs failed
//	gale_task_errors_total                             counter  task                    errors reported (panics included)
//	gale_task_panics_total                             counter  task                    panics recovered
//	gale_task_timed_out_total                          counter  task, spouts            trees timed out (also in failed)
//	gale_task_pending                                  gauge    task, spouts            trees in flight
//	gale_task_complete_latency_seconds                 summary  task, spouts            emit to tree completion; quantiles 0.5 and 0.99 (within ~19 %)
//	gale_task_executed_total                           counter  task, bolts             tuples executed
//	gale_task_queue_length                             gauge    task, bolts             tuples waiting in the input queue
//	gale_task_busy_seconds_total                       counter  task, bolts             time in Execute; its rate is the capacity (1 = always busy)
//	gale_task_execute_latency_seconds                  summary  task, bolts             Execute duration
//	gale_task_process_latency_seconds                  summary  task, bolts             receipt to ack
//	gale_task_custom_total                             counter  task, name              the task's own metric (TaskContext.RecordMetric), summed
//	gale_kafka_partition_batches_planned_total         counter  task, topic, partition  batches planned in the ledger (the next batch's seq)
//	gale_kafka_partition_batches_committed_total       counter  task, topic, partition  batches committed contiguously
//	gale_kafka_partition_batches_in_flight             gauge    task, topic, partition  batches emitted, not complete
//	gale_kafka_partition_batches_replaying             gauge    task, topic, partition  batches waiting to be emitted again
//	gale_kafka_partition_next_offset                   gauge    task, topic, partition  where the next batch starts
//	gale_kafka_partition_committed_offset              gauge    task, topic, partition  the consumer group's offset (absent while unknown)
//	gale_kafka_partition_high_watermark                gauge    task, topic, partition  the partition's end as last seen (absent while unknown)
//	gale_kafka_partition_lag                           gauge    task, topic, partition  high watermark - committed offset, at least 0 (absent while either is unknown)
//	gale_kafka_partition_batches_committing            gauge    task, topic, partition  batches complete, waiting for their ledger commit
//	gale_kafka_partition_commit_retries_total          counter  task, topic, partition  failed ledger writes of complete batches, retried
//	gale_kafka_partition_last_error_timestamp_seconds  gauge    task, topic, partition  when the partition's last error happened (absent if none)
//	gale_kafka_partition_lost_records_total            counter  task, topic, partition  offsets the ledger recorded lost (deleted by retention before they were read), ever
//	gale_kafka_partition_stopped                       gauge    task, topic, partition  1 when the spout stopped emitting for the partition (fenced, ledger gone, on_data_loss fail)
//	gale_sink_batches_total                            counter  task, sinks             batches written
//	gale_sink_records_total                            counter  task, sinks             records written
//	gale_sink_bytes_total                              counter  task, sinks             bytes written, as stored
//	gale_sink_retries_total                            counter  task, sinks             failed writes retried
//	gale_sink_rejected_total                           counter  task, sinks             records rejected by the backend (sent to the dead-letter files)
//	gale_sink_write_seconds_total                      counter  task, sinks             time in successful writes
//	gale_sink_last_write_seconds                       gauge    task, sinks             duration of the last successful write
//	gale_sink_batches_in_flight                        gauge    task, sinks             batches being written
//	gale_sink_last_error_timestamp_seconds             gauge    task, sinks             when the last write failed (absent if none)
//
// Handler adds the Go runtime's metrics (go_*: memory, goroutines, GC) and
// the process's (process_*: process_cpu_seconds_total,
// process_resident_memory_bytes, open file descriptors).
//
// # Queries
//
//	spout throughput     sum by (component) (rate(gale_task_emitted_total{kind="spout"}[1m]))
//	acked, failed        sum by (component) (rate(gale_task_acked_total{kind="spout"}[1m]))
//	complete latency     sum by (component) (rate(gale_task_complete_latency_seconds_sum[1m]))
//	                       / sum by (component) (rate(gale_task_complete_latency_seconds_count[1m]))
//	capacity per bolt    max by (component) (rate(gale_task_busy_seconds_total[1m]))
//	Kafka lag            sum by (topic, partition) (gale_kafka_partition_lag)
//	Kafka records lost   sum by (topic, partition) (increase(gale_kafka_partition_lost_records_total[1h])) > 0
//	sink write latency   rate(gale_sink_write_seconds_total[1m]) / rate(gale_sink_batches_total[1m])
//
// examples/grafana/gale-dashboard.json is a Grafana dashboard built on them.
package metrics
