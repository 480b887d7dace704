package kafkasec

import (
	"fmt"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

// scramClient is sarama's SCRAMClient on xdg-go/scram: the client side of
// a SCRAM conversation (RFC 5802), which also checks the server's final
// signature, so a broker that does not know the password cannot pass for
// one that does.
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

var _ sarama.SCRAMClient = (*scramClient)(nil)

func newSCRAMClient(h scram.HashGeneratorFcn) *scramClient { return &scramClient{hash: h} }

// Begin starts a conversation as user.
func (c *scramClient) Begin(user, password, authzID string) error {
	cl, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		// xdg-go/scram's errors never show the password
		return fmt.Errorf("scram: %w", err)
	}
	c.conv = cl.NewConversation()
	return nil
}

// Step answers the server's challenge.
func (c *scramClient) Step(challenge string) (string, error) { return c.conv.Step(challenge) }

// Done reports whether the conversation is over.
func (c *scramClient) Done() bool { return c.conv.Done() }
