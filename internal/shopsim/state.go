package shopsim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway"
)

// StateFileMode is the mode of the state file: it holds the shops' API
// credentials and the sub-accounts' password hashes.
const StateFileMode = gateway.FileMode

// LoadState restores engine from the state file at path. A missing file is
// no error (loaded is false): the engine is left as it is.
func LoadState(engine *memory.Engine, path string) (loaded bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("shopsim: reading the state file: %w", err)
	}
	if err := engine.Restore(data); err != nil {
		return false, fmt.Errorf("shopsim: state file %s: %w", path, err)
	}
	return true, nil
}

// SaveState writes the engine's state to Options.StateFile now (a no-op
// without one). The server already does so after every successful write;
// call it after changing the engine directly (e.g. AddShop) and at
// shutdown.
func (s *Server) SaveState() error {
	return s.store.save()
}

// stateFile writes whole snapshots of an engine to a file. Writes are
// coalesced: every caller takes a ticket after its change, and a snapshot
// taken after the highest ticket so far covers all of them, so concurrent
// callers share one write instead of queueing one each. Every write costs
// O(state): the whole engine is serialized and written, then fsynced.
type stateFile struct {
	path   string
	engine *memory.Engine

	tickets atomic.Uint64 // changes announced
	mu      sync.Mutex    // one write at a time; guards saved
	saved   uint64        // highest ticket covered by the file
}

// save returns once the file holds a snapshot taken after the caller's
// change. A nil stateFile saves nothing.
func (f *stateFile) save() error {
	if f == nil {
		return nil
	}
	ticket := f.tickets.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saved >= ticket {
		return nil // a write that started after our change covered it
	}
	covered := f.tickets.Load()
	data, err := f.engine.Snapshot()
	if err != nil {
		return fmt.Errorf("shopsim: snapshot: %w", err)
	}
	if err := writeFileAtomic(f.path, data); err != nil {
		return err
	}
	f.saved = covered
	return nil
}

// writeFileAtomic replaces path with data, mode StateFileMode, so a
// crash leaves either the old or the new file (gateway.WriteFileAtomic).
func writeFileAtomic(path string, data []byte) error {
	if err := gateway.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("shopsim: the state file: %w", err)
	}
	return nil
}
