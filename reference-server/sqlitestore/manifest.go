package sqlitestore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

const (
	manifestName   = "manifest.json"
	lockName       = "LOCK"
	partitionExt   = ".db"
	manifestFormat = 1
)

// manifest records what a data directory holds.
type manifest struct {
	Format     int           `json:"format"`
	Store      string        `json:"store"`
	Scheme     models.Scheme `json:"scheme"`
	Design     string        `json:"design"`
	Inventory  string        `json:"inventory_sha256"`
	Slots      int           `json:"slots"`
	Capacity   int           `json:"capacity"`
	Partitions int           `json:"partitions"`
	CreatedAt  time.Time     `json:"created_at"`
}

// InventoryHash returns the SHA-256 (hex) of the slot inventory of inv: every
// slot's PPV, day and capacity, in a canonical order. PPV names and states do
// not enter it, since they are not stored.
func InventoryHash(inv *models.Inventory) string {
	slots := append([]models.Slot(nil), inv.Slots...)
	sort.Slice(slots, func(i, j int) bool {
		if slots[i].PPV != slots[j].PPV {
			return slots[i].PPV < slots[j].PPV
		}
		return slots[i].Date.Before(slots[j].Date)
	})
	h := sha256.New()
	for _, s := range slots {
		fmt.Fprintf(h, "%q %s %d\n", s.PPV, s.Date, s.Capacity)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkOrWriteManifest verifies dir's manifest against want, or writes want
// when dir holds no manifest and no partition files.
func checkOrWriteManifest(dir string, want manifest) error {
	path := filepath.Join(dir, manifestName)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var got manifest
		if err := json.Unmarshal(data, &got); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if got.Format != manifestFormat || got.Store != want.Store {
			return fmt.Errorf("%s: format %d store %q; want format %d store %q: %w",
				path, got.Format, got.Store, manifestFormat, want.Store, store.ErrMismatch)
		}
		if got.Scheme != want.Scheme || got.Inventory != want.Inventory {
			return fmt.Errorf("data directory %s holds design %q (scheme %s, %d slots, inventory %.12s); "+
				"asked for design %q (scheme %s, %d slots, inventory %.12s); use another data directory or delete this one: %w",
				dir, got.Design, got.Scheme, got.Slots, got.Inventory,
				want.Design, want.Scheme, want.Slots, want.Inventory, store.ErrMismatch)
		}
		return nil
	case errors.Is(err, fs.ErrNotExist):
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("read data directory: %w", err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), partitionExt) {
				return fmt.Errorf("data directory %s holds partition files but no %s; refusing to guess what they are: %w",
					dir, manifestName, store.ErrMismatch)
			}
		}
		return writeFileSync(path, want)
	default:
		return fmt.Errorf("read manifest: %w", err)
	}
}

// writeFileSync writes v as JSON to path atomically and durably: temporary
// file, fsync, rename, fsync of the directory.
func writeFileSync(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return writeBytesSync(path, append(data, '\n'), 0o644)
}

// writeBytesSync writes data to path atomically and durably, with mode
// perm: temporary file, fsync, rename, fsync of the directory.
func writeBytesSync(path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", path, err), f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync %s: %w", path, err), f.Close())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	if err := d.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync directory %s: %w", dir, err), d.Close())
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
