// Package alertsink turns findings into alerts that reach a person: it
// silences, deduplicates and routes finding versions to Kafka, signed
// webhooks, Slack-compatible incoming webhooks and stdout. Router
// implements sink.Sink, so the embedded run and the streaming consumer
// feed it the same way.
//
// # Model
//
// Detectors emit findings as versions: the same Finding.ID (one incident
// of one rule, incident key and detector window) again with a larger Count,
// a later LastSeen or a higher Severity. For every version the Router
// decides, in this order:
//
//  1. Silences (alerts.silences): a version matching an unexpired silence
//     (rule glob, user, role, client network, fingerprint, Django route;
//     every field given must match) is muted and counted. Silences expire
//     by the wall clock, because they are operator actions ("mute this
//     until Friday"); the rule keeps running and its findings are still
//     stored. A muted version leaves no dedup state, so the first version
//     after expiry alerts.
//  2. Dedup, in event time (the version's LastSeen), so a replay decides
//     the same way. The incident key is rule + principal (user,
//     application, client address, cluster); Finding.ID adds the rule's
//     other key fields and the window. A Finding.ID not seen before alerts
//     (reason "new") unless the same incident key alerted less than
//     alerts.suppression_window ago. A later version of a known
//     Finding.ID alerts only when alerts.realert_on allows it: "severity"
//     (it rose: "severity_rose", also across windows), "count" (it grew:
//     "count_grew"); or when it still grows a whole suppression window
//     after the last alert ("window_expired"). An identical version (a
//     replay) never alerts. The state is an LRU of alerts.max_keys
//     entries; an evicted key may alert again (counted).
//  3. Routing: an alert goes to every route whose selectors all match
//     (min_severity, rule id globs, families, user and application globs;
//     an empty selector matches everything).
//
// Every alert links back: finding id, the ClickHouse query that shows the
// evidence (Finding.Query), first and last seen, rule, severity,
// principal, count, summary, the rule's explanation from the catalog, the
// remediation, evidence event ids and an optional link
// (alerts.link_template). Its JSON form is schemas/alert.schema.json; the
// alert id (hash of finding id, severity and count) identifies one
// version, so receivers can drop repeats.
//
// # Delivery contract
//
// WriteFindings returns nil when every route has acknowledged every alert
// of the call; what acknowledged means depends on the kind:
//
//   - kafka: written to the topic and acknowledged by all in-sync replicas
//     (RequireAll, synchronous). Key = incident key, so one key's alerts
//     are in one partition, in order. Durable.
//   - stdout: encoded and flushed to the writer.
//   - webhook, slack: placed in the route's bounded queue. Delivery is
//     asynchronous: worker goroutines POST with a per-request timeout and
//     retry 5xx, 429 (honouring Retry-After) and timeouts/connection errors
//     with exponential backoff and full jitter, up to max_retries; other
//     4xx and 3xx are permanent. An alert given up on is counted
//     (roachwatch_alerts_failed_total) and logged without URL, secret or
//     body. So queued means "will be tried", not "was delivered": these
//     routes are at most once beyond the queue.
//
// The queue's overflow policy is "block" by default: WriteFindings waits
// for room until its ctx ends, which is backpressure into the consumer
// (Kafka offsets are committed only after WriteFindings returns, so a
// stalled webhook delays commits rather than losing alerts silently).
// "drop_oldest" keeps the pipeline moving instead and counts the dropped
// alerts (roachwatch_alerts_dropped_total): choose it for a low-priority
// route (a chat channel) that must never slow detection down.
//
// On error WriteFindings forgets the dedup decisions of the call, so the
// caller's retry alerts again; routes that had accepted see those alerts
// twice (same alert id). The dedup state lives in memory: after a
// restart, replayed findings alert again. At least once, duplicates
// identifiable by alert id.
//
// Order: the alerts of one incident key are handed to each route in the
// order their versions were written, also across concurrent WriteFindings
// calls (the router takes each route's order lock before the next call
// decides), and a webhook route sends one key from one worker, one request
// at a time, retries included.
//
// # Lifecycle
//
// New starts the webhook and Slack workers (owned by the Router). Close,
// called once after the last write, stops accepting, lets the workers
// drain the queues until alerts.close_timeout, then aborts in-flight
// requests and counts what is left as dropped, and closes Kafka writers.
package alertsink
