package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A variable named like a section (ROACHWATCH_RUN is the run directory of
// scripts/kafka.sh and scripts/clickhouse.sh) must not shadow the keys under
// it, while the keys' own variables keep working.
func TestEnvNamedLikeASectionShadowsNothing(t *testing.T) {
	t.Setenv("ROACHWATCH_RUN", "/tmp/roachwatch-kafka")
	t.Setenv("ROACHWATCH_KAFKA", "x")
	c, err := Load("")
	require.NoError(t, err)
	require.Equal(t, Default().Run.Progress, c.Run.Progress)
	require.Equal(t, Default().Kafka.Brokers, c.Kafka.Brokers)

	t.Setenv("ROACHWATCH_RUN_PROGRESS", "never")
	c, err = Load("")
	require.NoError(t, err)
	require.Equal(t, "never", c.Run.Progress)
}
