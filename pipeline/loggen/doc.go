// Package loggen generates realistic, fully deterministic logs of a Django
// application running on a three-node CockroachDB cluster, with planted
// security incidents and benign look-alikes recorded in truth.json.
//
// Model. Generation is a discrete-event simulation driven by event time.
// Activities (a Django connection serving requests, a billing transaction,
// an internal-executor job, an operator session, a planted incident) start
// at pseudo-random times and push timed log entries into a min-heap. Before
// an activity starting at t runs, every pending entry older than t is
// written, so output is strictly time-ordered per file while only the
// entries of in-flight activities are held in memory.
//
// Determinism. All randomness comes from math/rand/v2 PCG sources seeded
// from Config.Seed; benign traffic, incident planning and each planted
// incident use separate streams, so adding a scenario does not perturb the
// benign traffic. Nothing reads the wall clock, and no map is iterated
// while producing output.
//
// Formats. CockroachDB entries follow docs/log-formats.md (json verbose and
// crdb-v2 envelopes, [config] headers, per-sink counters, '+' and '|'
// continuation lines, redaction markers). Django records use the verbose
// text formatter and python-json-logger's JSON shape.
//
// Extending. A new incident kind is one Scenario value (see scenarios.go):
// its category, expected rule, how often it is planted, and a Plant
// function that drives sessions through the same helpers benign traffic
// uses. Registering it in the scenarios list is the only other change.
package loggen
