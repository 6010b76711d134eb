/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command shopsim serves simulated shops over the platform gateway
// protocol (docs/platform-gateway.md): the reference server the operator's
// gateway driver talks to in development.
//
//	go run ./cmd/shopsim --config hack/shopsim.example.yaml --state-file .dev/shopsim.json
//
// It loads the state file (if any), adds the config's shops that the state
// does not have yet, prints the listen URL and the shops (never a
// credential), and serves until SIGINT/SIGTERM, then flushes the state file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

// adminTokenEnv is read when --admin-token is not given, so the token need
// not appear in the process list.
const adminTokenEnv = "SHOPSIM_ADMIN_TOKEN"

// shutdownTimeout bounds the graceful shutdown.
const shutdownTimeout = 10 * time.Second

// Limits of the HTTP server: what one connection may hold before the
// handler runs (net/http's default header limit is 1 MiB per request).
// There is no write timeout: injected latency (--latency) may be longer
// than any fixed one.
const (
	maxHeaderBytes    = 64 << 10
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "shopsim:", err)
		os.Exit(1)
	}
}

// flags are the command line.
type flags struct {
	listen     string
	config     string
	stateFile  string
	adminToken string
	showSMS    bool
	faults     shopsim.Faults
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("shopsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8089", "address to listen on (a non-loopback address is warned about: shopsim is for development and tests)")
	fs.StringVar(&f.config, "config", "", "YAML file listing the shops (see hack/shopsim.example.yaml)")
	fs.StringVar(&f.stateFile, "state-file", "", "JSON file holding the state across restarts (mode 0600; empty = in memory only)")
	fs.StringVar(&f.adminToken, "admin-token", "", "bearer token of the /admin endpoints (default $"+adminTokenEnv+"); empty disables them")
	fs.BoolVar(&f.showSMS, "show-sms-codes", false, "show the verification codes shopsim texts (its simulated phones) on the web page, for a local run; off, they are read only through /admin/sms")
	fs.DurationVar(&f.faults.Latency, "latency", 0, "latency added to every API call, e.g. 200ms")
	fs.Float64Var(&f.faults.ErrorRate, "error-rate", 0, "fraction (0-1) of API calls answered 503 unavailable")
	fs.Float64Var(&f.faults.DropRate, "drop-rate", 0, "fraction (0-1) of API calls whose connection is closed without an answer")
	fs.Float64Var(&f.faults.RateLimit, "rate-limit", 0, "per shop, API requests per second (0 = unlimited); over it: 429 with Retry-After")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if f.adminToken == "" {
		f.adminToken = getenv(adminTokenEnv)
	}
	if err := f.faults.Validate(); err != nil {
		return f, fmt.Errorf("fault flags: %w", err)
	}
	return f, nil
}

// run is main without the process: it serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	f, err := parseFlags(args, stderr, getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	engine := memory.NewEngine()
	if f.stateFile != "" {
		loaded, err := shopsim.LoadState(engine, f.stateFile)
		if err != nil {
			return err
		}
		if loaded {
			log.Info("state loaded", "file", f.stateFile)
		}
	}
	if f.config != "" {
		shops, err := shopsim.LoadConfig(f.config, getenv)
		if err != nil {
			return err
		}
		if err := shopsim.AddShops(engine, shops, log); err != nil {
			return err
		}
	}
	srv := shopsim.New(engine, shopsim.Options{Faults: f.faults, Logger: log, AdminToken: f.adminToken, StateFile: f.stateFile,
		ShowSMSCodes: f.showSMS})
	if err := srv.SaveState(); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "shopsim listening on http://%s\n", ln.Addr())
	if !isLoopback(ln.Addr()) {
		// shopsim is a simulator for development and tests: its shops'
		// credentials are usually the example config's, and its admin
		// endpoints hand out SMS codes. Say so where nobody can miss it.
		fmt.Fprintf(stderr, "WARNING: shopsim is listening on %s, which is not a loopback address: "+
			"anyone who can reach it can call its simulated shops, and with --admin-token its admin endpoints. "+
			"It is a simulator for development and tests; use --listen=127.0.0.1:PORT unless you mean it.\n", ln.Addr())
		log.Warn("listening on a non-loopback address", "addr", ln.Addr().String())
	}
	shops := engine.Shops()
	if len(shops) == 0 {
		fmt.Fprintln(stdout, "no shops (give --config)")
	}
	for _, s := range shops {
		fmt.Fprintf(stdout, "  shop %s/%s\n", s.Platform, s.MainAccount)
	}
	if f.adminToken == "" {
		fmt.Fprintln(stdout, "admin endpoints disabled (no --admin-token)")
	}
	if f.faults != (shopsim.Faults{}) {
		fmt.Fprintf(stdout, "faults: %s\n", f.faults)
	}

	hs := &http.Server{
		Handler:           srv.Handler(),
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	select {
	case err := <-serveErr:
		_ = srv.SaveState()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutdownErr := hs.Shutdown(sctx)
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		shutdownErr = errors.Join(shutdownErr, err)
	}
	if err := srv.SaveState(); err != nil {
		return errors.Join(shutdownErr, err)
	}
	return shutdownErr
}

// isLoopback reports whether a listener's address is a loopback one (an
// unspecified address such as 0.0.0.0 or :: listens on every interface).
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
