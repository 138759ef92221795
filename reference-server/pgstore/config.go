package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Defaults of Config.
const (
	DefaultPrefix         = "slotrush"
	DefaultMaxConns       = 16
	DefaultConnectTimeout = 5 * time.Second
	DefaultBookTimeout    = 30 * time.Second
	DefaultClaimTimeout   = 2 * time.Minute
)

// Config says where a Store lives and how it talks to PostgreSQL.
type Config struct {
	// URLs are the connection strings of the shards
	// ("postgres://user:pass@host:port/db?sslmode=disable" or key=value),
	// at least one. With several, the store's partitions and persons are
	// spread over them (see the package doc); their order must stay the
	// same across runs. pgxpool's pool_* parameters (pool_max_conn_idle_time,
	// pool_health_check_period, ...) tune each shard's pool, except
	// pool_max_conns: MaxConns sets it.
	URLs []string
	// Prefix names the design's namespace: the schema <Prefix>_<scheme>,
	// dashes as underscores ("slotrush_per_ppv_day"). Default "slotrush".
	Prefix string
	// Schema, when set, is the schema to use whatever the design's scheme,
	// so that one namespace holds one design only (as a data directory
	// does): opening it with another scheme is then a store.ErrMismatch.
	Schema string
	// MaxConns bounds each shard's connections (default 16): Book and
	// the reads wait for a free one.
	MaxConns int
	// ConnectTimeout bounds each connection attempt (default 5 s), unless
	// the URL sets connect_timeout.
	ConnectTimeout time.Duration
	// BookTimeout bounds the work of one Book once it was taken up
	// (default 30 s); the caller's context no longer applies then.
	BookTimeout time.Duration
	// ClaimTimeout is the age after which a pending claim with no booking
	// behind it is void (default 2 min; several shards only). It must
	// exceed BookTimeout.
	ClaimTimeout time.Duration
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.BookTimeout <= 0 {
		c.BookTimeout = DefaultBookTimeout
	}
	if c.ClaimTimeout <= 0 {
		c.ClaimTimeout = DefaultClaimTimeout
	}
	return c
}

// safeName matches the schema names Open accepts.
var safeName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// namespace returns the schema of design d under c (defaults applied).
func (c Config) namespace(d models.Design) (string, error) {
	ns := c.Schema
	if ns == "" {
		ns = c.Prefix + "_" + strings.ReplaceAll(string(d.Scheme), "-", "_")
	}
	if !safeName.MatchString(ns) {
		return "", fmt.Errorf("schema name %q: want 1 to 63 lower-case letters, digits and underscores, not starting with a digit", ns)
	}
	return ns, nil
}

// check returns the problems of c (defaults applied).
func (c Config) check() error {
	var errs []error
	if len(c.URLs) == 0 {
		errs = append(errs, errors.New("no PostgreSQL URL"))
	}
	if c.ClaimTimeout <= c.BookTimeout {
		errs = append(errs, fmt.Errorf("claim timeout %s must exceed book timeout %s", c.ClaimTimeout, c.BookTimeout))
	}
	return errors.Join(errs...)
}

// Opener returns a store.Opener that opens PostgreSQL stores with cfg; it
// ignores the data directory.
func Opener(cfg Config) store.Opener {
	return func(ctx context.Context, _ string, d models.Design, inv models.Inventory) (store.Store, error) {
		s, err := Open(ctx, cfg, d, inv)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// server is one shard's connection settings.
type server struct {
	pool *pgxpool.Config // its ConnConfig dials a single connection (Drop)
	addr string          // host:port/db, never the password
}

// conn returns the settings of one connection to the server.
func (srv server) conn() *pgx.ConnConfig { return srv.pool.ConnConfig }

// parseURL returns the connection settings of url: a pool of c.MaxConns
// connections whose sessions run synchronous_commit=on, with a server-side
// bound on transactions left idle by a vanished client.
func parseURL(i int, url string, c Config) (server, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's ParseConfigError redacts passwords.
		return server{}, fmt.Errorf("postgresql URL %d: %w", i+1, err)
	}
	pc.MaxConns = int32(min(c.MaxConns, math.MaxInt32))
	cc := pc.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = c.ConnectTimeout
	}
	rp := cc.RuntimeParams
	rp["synchronous_commit"] = "on"
	rp["idle_in_transaction_session_timeout"] = strconv.FormatInt(c.BookTimeout.Milliseconds(), 10)
	if rp["application_name"] == "" {
		rp["application_name"] = "slotrush-pgstore"
	}
	addr := cc.Host
	if !strings.HasPrefix(cc.Host, "/") {
		addr = net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	}
	return server{pool: pc, addr: addr + "/" + cc.Database}, nil
}

// connectError is a failed connection explained: what failed where and
// what to check. It wraps the driver's error.
type connectError struct {
	msg string
	err error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.err }

// connect dials one connection to srv, outside any pool, explaining a
// failure.
func connect(ctx context.Context, srv server) (*pgx.Conn, error) {
	c, err := pgx.ConnectConfig(ctx, srv.conn())
	if err != nil {
		return nil, explainConnect(srv, err)
	}
	return c, nil
}

// explainConnect returns err as a connectError naming the engine, the
// address and what to check.
func explainConnect(srv server, err error) error {
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var netErr net.Error
	var msg string
	switch {
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"):
		msg = fmt.Sprintf("authentication of user %q failed (%s): check the user and password in the URL, and the server's pg_hba.conf",
			srv.conn().User, pgErr.Message)
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		msg = fmt.Sprintf("database %q does not exist: create it (createdb %s) or fix the URL", srv.conn().Database, srv.conn().Database)
	case errors.As(err, &pgErr) && pgErr.Code == "53300":
		msg = "too many connections: lower the store's MaxConns or raise the server's max_connections"
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = "connection refused: is the server running and is the URL right?"
	case errors.As(err, &dnsErr):
		msg = fmt.Sprintf("cannot resolve host %q: is the host name right?", dnsErr.Name)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		msg = fmt.Sprintf("no answer within %s: is the host reachable and the port right?", srv.conn().ConnectTimeout)
	case errors.As(err, &pgErr):
		msg = fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	default:
		msg = err.Error() // pgconn names user and database, never the password
	}
	return &connectError{msg: "postgresql at " + srv.addr + ": " + msg, err: err}
}

// lockKey returns the advisory lock key that serializes creating,
// checking and dropping schema ns.
func lockKey(ns string) int64 {
	h := fnv.New64a()
	h.Write([]byte("slotrush/pgstore/" + ns))
	return int64(h.Sum64()) // a lock key: wrapping around is fine
}

// Drop removes the namespace of design d under cfg (its schema with
// everything in it) from every shard, so that the next Open creates it
// afresh. Dropping a namespace that does not exist is not an error. Stores
// open on it fail from then on.
func Drop(ctx context.Context, cfg Config, d models.Design) error {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return fmt.Errorf("drop postgresql store: %w", err)
	}
	ns, err := cfg.namespace(d)
	if err != nil {
		return fmt.Errorf("drop postgresql store: %w", err)
	}
	var errs []error
	for i, url := range cfg.URLs {
		srv, err := parseURL(i, url, cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := dropSchema(ctx, srv, ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("drop postgresql store %s: %w", ns, err)
	}
	return nil
}

// dropSchema drops schema ns on srv under its advisory lock.
func dropSchema(ctx context.Context, srv server, ns string) error {
	c, err := connect(ctx, srv)
	if err != nil {
		return err
	}
	defer closeConn(c)
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(ns)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{ns}.Sanitize()+` CASCADE`)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgresql at %s: drop schema %s: %w", srv.addr, ns, err)
	}
	return nil
}

// closeConn closes a connection made outside the pools, giving the server
// a second to hear the goodbye.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.Close(ctx) // nothing useful to do if the goodbye fails
}
