package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"roachwatch/internal/config"
)

// Main runs root with a context cancelled by SIGINT/SIGTERM, prints the
// error, if any, as "name: error" and exits with its code. Only main
// functions call it.
func Main(name string, root *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
	}
	os.Exit(Code(err))
}

// LoadConfig loads the file named by the command's --config flag (the
// embedded default when empty); errors are usage errors.
func LoadConfig(cmd *cobra.Command) (config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path)
	if err != nil {
		return config.Config{}, Usage(err)
	}
	return cfg, nil
}
