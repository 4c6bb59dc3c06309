// Package anomaly holds the per-principal baseline rules RW-ANOM-001..006:
// exfiltration-sized reads, new statement shapes of application
// principals, request-rate spikes, off-hours activity, new client
// addresses/networks/applications and never-seen principals touching
// sensitive tables.
//
// # Model
//
// A principal is cluster + SQL user. Only CockroachDB events with a user
// are used: internal activity (Event.Internal, and the users in
// skip_users, "node" by default) is skipped before baselining, as are
// Django events (their log lines carry no database user, and the
// statements they log reach CockroachDB too, where they are seen with
// their principal). One statement is logged by up to four channels
// (query_execute, slow_query, sensitive_table_access, sampled_query) with
// the same event time; a per-principal ring of the last statements (time,
// fingerprint hash) counts it once. Failed authentications never teach
// the baseline (an attacker's address must not become "known").
//
// Everything is driven by event time (Event.Time), never by the wall
// clock, and depends only on the order of the input, so replays give
// byte-identical findings. Alerting starts after a global warm-up
// (warmup of event time after the first event) and, per principal, after
// min_observations events; RW-ANOM-006 needs the warm-up only.
//
// # Statistics
//
// Row counts (NumRows per statement shape and per table; telemetry
// RowsRead per shape and table) and per-minute event counts use a robust
// streaming estimator in log2(1+x) space: a Huber-clipped EWMA of the
// location (an M-estimate close to the median) and of the clipped
// absolute deviation (the spread, a MAD-like scale; for Gaussian data
// about 1.19 x MAD). One observation moves the location by at most
// alpha * huber * max(scale, scale_floor), so the outlier being tested
// cannot drag its own baseline along, and mean/stddev blow-ups are
// impossible. A value is anomalous when log2(1+x) > location +
// k * max(scale, floor), i.e. seen > median * 2^(k*scale): with the
// default rows_mads 8 and floor 0.5, at least 16 times the baseline
// median, and at least min_rows rows. Each estimator is 12 bytes.
//
// Statement shapes per principal are kept in a space-saving top-K table
// (max_fingerprints entries with counts and the two row estimators);
// tables likewise (max_tables). A principal that ever had more distinct
// shapes than K is not treated as ORM-shaped, since membership is then
// approximate, and RW-ANOM-002 stays quiet for it (raise K). Client
// addresses, /24 (IPv4) or /48 (IPv6) networks and application names are
// small capped sets (space-saving replacement when full; a kind that
// overflowed stops alerting). The hour-of-week profile is 168 uint8
// counters halved together when one saturates (a slow decay that keeps
// the shape); before a week of history it is read as an hour-of-day
// profile, and neighbouring hours count as covered.
//
// # Bounds
//
// Per principal (bytes, 64-bit):
//
//	principalBytes = sizeofPrincipal + mapEntryBytes + len(key) (<= maxKeyBytes)
//	               + max_fingerprints*sizeofEntry + max_tables*sizeofEntry
//	               + (max_addresses + max_networks + max_applications)*sizeofItem
//	               + hourProfileBytes (if off_hours) + idBytes (newcomers only)
//
// In total: MemoryBytes() <= max_principals*principalBytes +
// seen_filter_bits/8. PrincipalBound reports both numbers for a config;
// the tests hold the detector to them at 10k, 100k and 1M principals.
// When max_principals would be exceeded the least recently observed
// principal is evicted (LRU in event order). A fixed-size "seen" filter
// (two hashes per principal) remembers evicted principals, so one that
// returns is not reported as never seen by RW-ANOM-006 (false positives
// of the filter can only hide, never invent, a new principal).
//
// # Restarts
//
// Snapshot writes the whole state in a versioned binary format (magic,
// version, body, CRC-32); Restore replaces the state and fits it to the
// current config's caps. Restoring a snapshot taken between two events
// and continuing gives the same findings as an uninterrupted run.
package anomaly
