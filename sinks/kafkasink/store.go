package kafkasink

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/gale-stream/gale/sinks"
)

// OpenStore opens the output topic for reading (gale verify): a
// sinks.DocumentStore of its committed records, each under its key (the
// tuple id). A sink that writes no key (key "none") cannot be verified.
func (c *Config) OpenStore(context.Context) (io.Closer, error) {
	if c.Key != "id" {
		return nil, fmt.Errorf("%s topic %q: key %q: its records carry no tuple id, so gale verify cannot place them in batches (use key \"id\"): %w",
			TypeName, c.Topic, c.Key, sinks.ErrConfig)
	}
	sc, err := c.saramaConfig()
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w", TypeName, c.Brokers, err)
	}
	sc.Consumer.IsolationLevel = sarama.ReadCommitted
	sc.Consumer.Return.Errors = true
	client, err := sarama.NewClient(c.Brokers, sc)
	if err != nil {
		return nil, fmt.Errorf("%s %v: connect: %w", TypeName, c.Brokers, c.Security.Explain(c.Brokers, err))
	}
	return &store{cfg: c, client: client}, nil
}

// store reads the output topic.
type store struct {
	cfg    *Config
	client sarama.Client
}

var _ sinks.DocumentStore = (*store)(nil)

// tailWait is how long a partition's reader waits for more records once it
// has read up to its high watermark but for transaction markers (which a
// read_committed consumer never sees); idleWait ends a partition whose
// tail holds aborted records.
const (
	tailWait = 300 * time.Millisecond
	idleWait = 5 * time.Second
)

// Documents calls fn for every committed record of the topic up to the
// high watermarks seen when it starts (read_committed: an aborted or
// open transaction's records are not seen), with its key as id and its
// value as source. fn is called from one goroutine at a time. The topic
// holds one topology's output, so topology is not needed.
func (s *store) Documents(ctx context.Context, _ string, fn func(id string, source []byte) error) error {
	topic := s.cfg.Topic
	parts, err := s.client.Partitions(topic)
	if err != nil {
		return fmt.Errorf("%s topic %q: partitions: %w", TypeName, topic, err)
	}
	consumer, err := sarama.NewConsumerFromClient(s.client)
	if err != nil {
		return err
	}
	defer consumer.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex // serialises fn and guards first
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	for _, p := range parts {
		hwm, err := s.client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return fmt.Errorf("%s topic %q partition %d: high watermark: %w", TypeName, topic, p, err)
		}
		oldest, err := s.client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return fmt.Errorf("%s topic %q partition %d: oldest offset: %w", TypeName, topic, p, err)
		}
		if hwm <= oldest {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, oldest)
		if err != nil {
			return fmt.Errorf("%s topic %q partition %d: %w", TypeName, topic, p, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.Close()
			wait := idleWait
			timer := time.NewTimer(wait)
			defer timer.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case e := <-pc.Errors():
					fail(fmt.Errorf("%s topic %q partition %d: %w", TypeName, topic, p, e.Err))
					return
				case m := <-pc.Messages():
					mu.Lock()
					err := fn(string(m.Key), m.Value)
					mu.Unlock()
					if err != nil {
						fail(err)
						return
					}
					if m.Offset >= hwm-1 {
						return
					}
					if m.Offset >= hwm-2 {
						wait = tailWait // what follows is most likely the commit marker
					}
					timer.Reset(wait)
				case <-timer.C:
					return // nothing more but markers or aborted records
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// Close closes the connection.
func (s *store) Close() error { return s.client.Close() }
