package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

func TestConfigCapacity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec    string
		billing types.BillingMode
		r, w    int64
		err     string
	}{
		{spec: "", billing: types.BillingModePayPerRequest},
		{spec: "on-demand", billing: types.BillingModePayPerRequest},
		{spec: "provisioned:100/50", billing: types.BillingModeProvisioned, r: 100, w: 50},
		{spec: "provisioned:0/5", err: "positive whole"},
		{spec: "provisioned:5", err: "want \"on-demand\""},
		{spec: "provisioned:a/b", err: "positive whole"},
		{spec: "fast", err: "want \"on-demand\""},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			billing, pt, err := Config{Capacity: tc.spec}.capacity()
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("capacity(%q) err = %v; want one saying %q", tc.spec, err, tc.err)
				}
			case err != nil || billing != tc.billing:
				t.Errorf("capacity(%q) = %s, %v; want %s", tc.spec, billing, err, tc.billing)
			case tc.r != 0 && (pt == nil || *pt.ReadCapacityUnits != tc.r || *pt.WriteCapacityUnits != tc.w):
				t.Errorf("capacity(%q) throughput = %+v; want %d/%d", tc.spec, pt, tc.r, tc.w)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		errs int
	}{
		{Config{}, 0},
		{Config{Endpoint: "http://127.0.0.1:8000", Table: "sr", Capacity: "provisioned:1/1"}, 0},
		{Config{Endpoint: "127.0.0.1:8000"}, 1},
		{Config{Table: "slot rush"}, 1},
		{Config{TableName: "x"}, 1},
		{Config{Table: "a/b", Capacity: "lots"}, 2},
	} {
		if errs := tc.cfg.Validate(); len(errs) != tc.errs {
			t.Errorf("%+v.Validate() = %v; want %d problems", tc.cfg, errs, tc.errs)
		}
	}
	if got := (Config{}).withDefaults().table(models.PerPPVDay); got != "slotrush-per-ppv-day" {
		t.Errorf("default table of per-ppv-day = %q; want slotrush-per-ppv-day", got)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestUnreachable: Open against a closed port fails at once, naming the
// engine, the endpoint and the script that starts DynamoDB Local.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	endpoint := "http://" + closedPort(t)
	start := time.Now()
	_, err := Open(context.Background(), Config{Endpoint: endpoint}, models.Design{Scheme: models.Monolithic}, models.SmallInventory())
	want := "dynamodb at " + endpoint + ": connection refused: is DynamoDB Local running (scripts/start-dynamodb.sh)?"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Open of a closed port: err = %v; want one saying %q", err, want)
	}
	if d := time.Since(start); d > pingTimeout {
		t.Errorf("Open of a closed port took %v; want less than %v", d, pingTimeout)
	}
	if err := Drop(context.Background(), Config{Endpoint: endpoint}, models.Design{Scheme: models.Monolithic}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Drop over a closed port: err = %v; want one saying %q", err, want)
	}
}

// TestMismatch: a table holding another inventory, or another scheme (one
// TableName for two designs), or keyed otherwise, is refused.
func TestMismatch(t *testing.T) {
	t.Parallel()
	cfg := uniqueConfig(t)
	ctx := context.Background()
	inv := models.SmallInventory()
	d := design(t, "per-ppv")
	open(t, cfg, d, inv)
	inv2 := models.SmallInventory()
	inv2.Slots[0].Capacity--
	if _, err := Open(ctx, cfg, d, inv2); !errors.Is(err, store.ErrMismatch) || !strings.Contains(err.Error(), cfg.table(d.Scheme)) {
		t.Errorf("Open with another inventory: err = %v; want ErrMismatch naming the table", err)
	}
	// Other limits and a waiting room are runtime settings: the same table.
	d2, _ := models.ParseDesign("per-ppv+waiting-room", models.Limits{WriteRate: 5})
	open(t, cfg, d2, inv)

	one := cfg
	one.TableName = cfg.table(d.Scheme)
	if _, err := Open(ctx, one, design(t, "monolithic"), inv); !errors.Is(err, store.ErrMismatch) {
		t.Errorf("Open of another scheme in one table: err = %v; want ErrMismatch", err)
	}

	foreign := cfg
	foreign.TableName = cfg.Table + "-foreign"
	cl, err := newClients(ctx, foreign.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.patient.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(foreign.TableName),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Drop(ctx, foreign, d); err != nil {
			t.Error(err)
		}
	})
	if _, err := Open(ctx, foreign, d, inv); !errors.Is(err, store.ErrMismatch) || !strings.Contains(err.Error(), "key schema") {
		t.Errorf("Open of a table keyed otherwise: err = %v; want ErrMismatch naming the key schema", err)
	}
}

// TestDrop: Drop removes a design's table; the next Open seeds it afresh.
func TestDrop(t *testing.T) {
	t.Parallel()
	cfg := uniqueConfig(t)
	ctx := context.Background()
	inv := models.SmallInventory()
	d := design(t, "monolithic")
	st, err := Open(ctx, cfg, d, inv)
	if err != nil {
		t.Fatal(err)
	}
	s := inv.Slots[0]
	if _, err := st.Partitions()[0].Book(ctx, record("x", "ali", s)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Drop(ctx, cfg, d); err != nil {
		t.Fatal(err)
	}
	if err := Drop(ctx, cfg, d); err != nil {
		t.Errorf("Drop of a missing table: %v", err)
	}
	st = open(t, cfg, d, inv)
	states, err := st.Partitions()[0].Slots(ctx, s.PPV, s.Date, s.Date)
	if err != nil || len(states) != 1 || states[0].Remaining != s.Capacity {
		t.Errorf("after Drop, Slots = %+v, %v; want all %d places", states, err, s.Capacity)
	}
	if _, err := st.PersonBooking(ctx, "ali"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Drop, PersonBooking(ali) err = %v; want ErrNotFound", err)
	}
}

// TestEngine: a custom endpoint is DynamoDB Local, without enforced limits.
func TestEngine(t *testing.T) {
	t.Parallel()
	st := open(t, uniqueConfig(t), design(t, "per-ppv-day"), models.SmallInventory())
	e := st.Engine()
	if e.Name != "dynamodb" || e.Version != "DynamoDB Local" || e.LimitsEnforced || e.Durability == "" {
		t.Errorf("Engine() = %+v; want dynamodb, DynamoDB Local, limits not enforced", e)
	}
	if d := st.Describe(); !strings.Contains(d, st.Table()) || !strings.Contains(d, "TransactWriteItems") {
		t.Errorf("Describe() = %q; want the table and the transaction", d)
	}
	onAWS := (&Store{cfg: Config{Region: "ap-southeast-1"}}).Engine()
	if onAWS.Version != "AWS ap-southeast-1" || !onAWS.LimitsEnforced {
		t.Errorf("Engine() on AWS = %+v; want AWS ap-southeast-1 with limits enforced", onAWS)
	}
}

// TestResend: the same transaction sent twice (a retry after its answer
// was lost) books once, and Book learns it booked.
func TestResend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inv := models.SmallInventory()
	d := design(t, "per-ppv-day")
	st := open(t, uniqueConfig(t), d, inv)
	s := inv.Slots[0]
	p := partitionOf(st, d, s)
	sl := p.slots[s.Key()]
	in := p.bookInput(sl, record("b1", "ali", s), s.Capacity, requestToken(st.table, "b1", 1, 0))
	for i := range 2 {
		_, err := p.api.TransactWriteItems(ctx, in)
		o := classify(err, aws.ToString(in.ClientRequestToken))
		if o.kind != kindCommitted && o.kind != kindOwnWrite {
			t.Errorf("send %d: %v (%+v); want committed or recognised as our own write", i, err, o)
		}
	}
	states, err := p.Slots(ctx, s.PPV, s.Date, s.Date)
	if err != nil || len(states) != 1 || states[0].Remaining != s.Capacity-1 {
		t.Errorf("Slots = %+v, %v; want one place taken", states, err)
	}
	// The same booking id again, from another Book call: a duplicate.
	sl.expect = s.Capacity - 1
	if _, err := p.Book(ctx, record("b1", "ali", s)); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("Book of a stored booking again: err = %v; want ErrDuplicate", err)
	}
}

// TestManyPartitions: a design with hundreds of partitions opens (seeds)
// and books in each.
func TestManyPartitions(t *testing.T) {
	t.Parallel()
	inv := models.UniformInventory(10, 30, 3)
	d := design(t, "per-ppv-day")
	st := open(t, uniqueConfig(t), d, inv)
	if n := len(st.Partitions()); n != 300 {
		t.Fatalf("%d partitions; want 300", n)
	}
	ctx := context.Background()
	for i, s := range inv.Slots[:20] {
		if left, err := partitionOf(st, d, s).Book(ctx, record(fmt.Sprint("b", i), fmt.Sprint("p", i), s)); err != nil || left != 2 {
			t.Errorf("Book %s = %d, %v; want 2 left", s.Key(), left, err)
		}
	}
}

// TestAWSEnvironment: on AWS, a missing region or missing credentials are
// said plainly. (Not parallel: it sets the environment. The instance
// metadata service is disabled, so nothing leaves the machine.)
func TestAWSEnvironment(t *testing.T) {
	for k, v := range map[string]string{
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_SESSION_TOKEN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	d, inv := models.Design{Scheme: models.PerPPV}, models.SmallInventory()
	if _, err := Open(ctx, Config{}, d, inv); err == nil || !strings.Contains(err.Error(), "no region: set AWS_REGION") {
		t.Errorf("Open on AWS without a region: err = %v; want one saying to set AWS_REGION", err)
	}
	_, err := Open(ctx, Config{Region: "ap-southeast-1"}, d, inv)
	if err == nil || !strings.Contains(err.Error(), "dynamodb on AWS (ap-southeast-1): no AWS credentials") {
		t.Errorf("Open on AWS without credentials: err = %v; want one saying so", err)
	}
}
