package kafkatransport

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/segmentio/kafka-go"
)

// laneKey names a lane: one partition of one topic.
type laneKey struct {
	topic     string
	partition int
}

// entry is a message waiting in (or being written from) a lane, with the
// Batch it came in.
type entry struct {
	msg kafka.Message
	b   *pending
}

// pending counts the messages of one Batch that are not yet acknowledged;
// the last acknowledgement runs the Batch's Done.
type pending struct {
	left atomic.Int64
	done func()
}

func (b *pending) ack() {
	if b.left.Add(-1) == 0 && b.done != nil {
		b.done()
	}
}

// lane is the FIFO of one partition's messages. At most one writer holds
// a lane at a time (busy), so a partition's messages are written, and
// retried, strictly in the order they were queued.
type lane struct {
	key  laneKey
	q    []entry
	busy bool
}

// lanes schedules the lanes onto the writers: a lane with queued messages
// and no writer is ready; a writer takes the oldest ready lanes (take), a
// chunk from the head of each queue, writes them until they are
// acknowledged and releases each lane. Safe for concurrent use.
type lanes struct {
	mu      sync.Mutex
	cond    sync.Cond
	all     map[laneKey]*lane
	ready   []*lane        // ready lanes, in the order they became ready
	queued  int            // messages in lane queues, not yet taken by a writer
	pending map[string]int // per topic: messages queued or being written
	closed  bool           // no more input (writers exit when nothing is queued)
	err     error          // stopping: the context ended or a writer failed

	maxMsgs  int   // messages per chunk (kafka.producer.batch_size)
	maxBytes int64 // bytes per chunk (kafka.producer.batch_bytes), by wireSize
}

func newLanes(maxMsgs int, maxBytes int64) *lanes {
	s := &lanes{all: map[laneKey]*lane{}, pending: map[string]int{}, maxMsgs: max(maxMsgs, 1), maxBytes: maxBytes}
	s.cond.L = &s.mu
	return s
}

// add queues es (partitions assigned) at the tail of their lanes. It first
// waits while limit or more messages are queued (backpressure); it fails
// only when the lanes are stopping.
func (s *lanes) add(es []entry, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.err == nil && s.queued >= limit {
		s.cond.Wait()
	}
	if s.err != nil {
		return s.err
	}
	s.pushLocked(es)
	return nil
}

// divert queues es without waiting: for a writer that replaces messages
// by DLQ records (a writer must never wait for queue space, it is what
// frees it).
func (s *lanes) divert(es []entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushLocked(es)
}

func (s *lanes) pushLocked(es []entry) {
	for _, e := range es {
		k := laneKey{e.msg.Topic, e.msg.Partition}
		l := s.all[k]
		if l == nil {
			l = &lane{key: k}
			s.all[k] = l
		}
		if len(l.q) == 0 && !l.busy {
			s.ready = append(s.ready, l)
		}
		l.q = append(l.q, e)
		s.pending[k.topic]++
	}
	s.queued += len(es)
	s.cond.Broadcast()
}

// take waits for a ready lane and returns it, held, with a chunk from the
// head of its queue: at most maxMsgs messages and maxBytes bytes (at
// least one message), so that the kafka-go writer sends it as one
// produce request, which the broker takes or refuses whole. While the
// chunks taken add up to fewer than maxMsgs messages it takes further
// ready lanes the same way, so one write covers several partitions as
// before (the Writer sends their requests concurrently). held[i] is a
// lane with the number of messages taken from it; chunk holds them lane
// by lane. It returns nothing when the lanes stop, or when they are
// closed and nothing is queued.
func (s *lanes) take() (held []taken, chunk []entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.err != nil {
			return nil, nil
		}
		if len(s.ready) > 0 {
			break
		}
		if s.closed && s.queued == 0 {
			return nil, nil
		}
		s.cond.Wait()
	}
	for len(s.ready) > 0 && len(chunk) < s.maxMsgs {
		l := s.ready[0]
		s.ready[0] = nil
		s.ready = s.ready[1:]
		n, bytes := 0, int64(0)
		for n < len(l.q) && n < s.maxMsgs {
			sz := wireSize(l.q[n].msg)
			if n > 0 && bytes+sz > s.maxBytes {
				break
			}
			bytes += sz
			n++
		}
		chunk = append(chunk, l.q[:n]...)
		clear(l.q[:n])
		l.q = l.q[n:]
		if len(l.q) == 0 {
			l.q = nil
		}
		l.busy = true
		s.queued -= n
		held = append(held, taken{l, n})
	}
	s.cond.Broadcast() // queue space for add
	return held, chunk
}

// taken is a lane held by a writer and how many messages it took.
type taken struct {
	l *lane
	n int
}

// release gives l back after its writer finished n messages taken from it
// (acknowledged or diverted): l is ready again if more are queued.
func (s *lanes) release(l *lane, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.busy = false
	if len(l.q) > 0 {
		s.ready = append(s.ready, l)
	}
	s.pending[l.key.topic] -= n
	s.cond.Broadcast()
}

// drain waits until nothing of topic is queued or being written.
func (s *lanes) drain(topic string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.err == nil && s.pending[topic] > 0 {
		s.cond.Wait()
	}
	return s.err
}

// close says no more input will be added: writers exit once every lane
// is empty.
func (s *lanes) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.cond.Broadcast()
}

// stop makes every waiter return: the first err is kept.
func (s *lanes) stop(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.cond.Broadcast()
}

// wireSize is an upper bound of the size kafka-go counts for m against
// Writer.BatchBytes (Message.totalSize: the v1 message plus the record
// headers, each length taken as its largest varint).
func wireSize(m kafka.Message) int64 {
	n := 4 + 1 + 1 + 4 + len(m.Key) + 4 + len(m.Value) + 8 + 10
	for _, h := range m.Headers {
		n += 10 + len(h.Key) + 10 + len(h.Value)
	}
	return int64(n)
}

// partitioner assigns messages to partitions as kafka.Hash does in a
// kafka-go Writer (the same hash over the partitions 0..n-1), from the
// partition counts it keeps per topic. Safe for concurrent use.
type partitioner struct {
	mu     sync.Mutex
	counts map[string]int
	ids    []int // 0..max-1; ids[:n] is the partition list of an n-partition topic
	hash   kafka.Hash
}

func newPartitioner() *partitioner { return &partitioner{counts: map[string]int{}} }

// missing returns the topics among es's messages without a known count.
func (p *partitioner) missing(es []entry) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range es {
		if _, ok := p.counts[e.msg.Topic]; !ok && !slices.Contains(out, e.msg.Topic) {
			out = append(out, e.msg.Topic)
		}
	}
	return out
}

// topics returns every topic with a known count.
func (p *partitioner) topics() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.counts))
	for t := range p.counts {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

func (p *partitioner) count(topic string) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.counts[topic]
	return n, ok
}

func (p *partitioner) set(topic string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[topic] = n
	for len(p.ids) < n {
		p.ids = append(p.ids, len(p.ids))
	}
}

// assign sets Partition of every message in es whose topic has a count;
// it reports whether all had one.
func (p *partitioner) assign(es []entry) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := true
	for i := range es {
		n, ok := p.counts[es[i].msg.Topic]
		if !ok {
			all = false
			continue
		}
		es[i].msg.Partition = p.hash.Balance(es[i].msg, p.ids[:n]...)
	}
	return all
}

// assigned is the Writer's Balancer: the partition the producer's lanes
// chose (Message.Partition, which kafka-go's Writer otherwise ignores).
type assigned struct{}

func (assigned) Balance(msg kafka.Message, _ ...int) int { return msg.Partition }

// stopWith stops the lanes when ctx ends; the result unregisters that.
func (s *lanes) stopWith(ctx context.Context) (release func() bool) {
	return context.AfterFunc(ctx, func() { s.stop(ctx.Err()) })
}
