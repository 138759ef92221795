package sqlitestore

import (
	"context"
	"os"
	"testing"

	"github.com/slotrush/slotrush/models"
)

// OpenFiles counts the descriptors a store really opens: a store of
// per-ppv-day (several partitions) with a waiting room, counted in
// /proc/self/fd. Not parallel: other tests' files would be counted.
func TestOpenFilesMatchesTheStore(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to count open files in")
	}
	inv := models.SmallInventory()
	d := design(t, "per-ppv-day")
	parts := len(d.Partitions(&inv))
	open := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	before := open()
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir(), d, inv, WithReadConns(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	if _, err := st.Room(ctx); err != nil {
		t.Fatal(err)
	}
	got := open() - before
	atOpen, most := OpenFiles(parts, true, WithReadConns(3))
	if got != atOpen {
		t.Errorf("a store of %d partitions with a room holds %d files; OpenFiles says %d at open", parts, got, atOpen)
	}
	if want := atOpen + parts*2*2; most != want {
		t.Errorf("OpenFiles most = %d; want %d (two more read connections a partition, two files each)", most, want)
	}
}
