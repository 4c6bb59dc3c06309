// Command demo-traffic is the compose stack's traffic generator: a Django-like web
// application's benign queries against the demo clinic schema, plus, every attack
// interval, the incidents roachwatch is built to find:
//
//   - a plaintext (sslmode=disable) session of legacy_report reading ssn (RW-TLS-001),
//   - plaintext SSNs and card numbers written to columns meant for ciphertext (RW-CRYPTO-001),
//   - injection-shaped statements and a burst of syntax/undefined-object errors (RW-SQLI-001),
//   - a failed-login burst against web, password spraying over many user names, then a
//     successful login (RW-AUTH-001).
//
// It only talks to the compose cluster it is pointed at (DEMO_HOSTS), runs until SIGINT/SIGTERM
// (or DEMO_DURATION), and never prints a password or a generated value.
//
// Environment:
//
//	DEMO_HOSTS              comma-separated CockroachDB hosts (default roach1,roach2,roach3), port 26257
//	DEMO_CA_FILE            CA certificate for verify-full (default /certs/ca.crt)
//	DEMO_WEB_PASSWORD       password of web (required)
//	DEMO_LEGACY_PASSWORD    password of legacy_report (required)
//	DEMO_REQUEST_INTERVAL   pause between benign requests (default 300ms)
//	DEMO_FIRST_ATTACK       delay before the first attack round (default 15s)
//	DEMO_ATTACK_INTERVAL    pause between attack rounds (default 2m)
//	DEMO_DURATION           stop after this long; 0 runs until stopped (default 0)
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

type settings struct {
	hosts          []string
	caFile         string
	webPassword    string
	legacyPassword string
	requestEvery   time.Duration
	firstAttack    time.Duration
	attackEvery    time.Duration
	duration       time.Duration
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	s, err := load()
	if err != nil {
		log.Fatalf("demo-traffic: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if s.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.duration)
		defer cancel()
	}
	if err := run(ctx, s); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		log.Fatalf("demo-traffic: %v", err)
	}
	log.Print("demo-traffic: stopped")
}

func load() (settings, error) {
	s := settings{
		hosts:          strings.Split(env("DEMO_HOSTS", "roach1,roach2,roach3"), ","),
		caFile:         env("DEMO_CA_FILE", "/certs/ca.crt"),
		webPassword:    os.Getenv("DEMO_WEB_PASSWORD"),
		legacyPassword: os.Getenv("DEMO_LEGACY_PASSWORD"),
	}
	if s.webPassword == "" || s.legacyPassword == "" {
		return s, errors.New("DEMO_WEB_PASSWORD and DEMO_LEGACY_PASSWORD are required")
	}
	for _, d := range []struct {
		name string
		def  string
		dst  *time.Duration
	}{
		{"DEMO_REQUEST_INTERVAL", "300ms", &s.requestEvery},
		{"DEMO_FIRST_ATTACK", "15s", &s.firstAttack},
		{"DEMO_ATTACK_INTERVAL", "2m", &s.attackEvery},
		{"DEMO_DURATION", "0s", &s.duration},
	} {
		v, err := time.ParseDuration(env(d.name, d.def))
		if err != nil || v < 0 {
			return s, fmt.Errorf("%s: %q is not a non-negative duration such as 30s", d.name, env(d.name, d.def))
		}
		*d.dst = v
	}
	if s.requestEvery == 0 || s.attackEvery == 0 {
		return s, errors.New("DEMO_REQUEST_INTERVAL and DEMO_ATTACK_INTERVAL must be positive")
	}
	return s, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// connConfig builds a connection config. tls selects verify-full against the demo CA;
// without it the connection is plaintext (sslmode=disable), which only legacy_report may use.
func (s settings) connConfig(host, user, password, app string, tls bool) (*pgx.ConnConfig, error) {
	mode := "sslmode=disable"
	if tls {
		mode = "sslmode=verify-full sslrootcert=" + s.caFile
	}
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=26257 dbname=clinic user=%s application_name=%s connect_timeout=5 %s",
		host, user, app, mode))
	if err != nil {
		return nil, err
	}
	cfg.Password = password // set here, never formatted into a string
	return cfg, nil
}

func (s settings) connect(ctx context.Context, host, user, password, app string, tls bool) (*pgx.Conn, error) {
	cfg, err := s.connConfig(host, user, password, app, tls)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

func run(ctx context.Context, s settings) error {
	web, err := waitForWeb(ctx, s)
	if err != nil {
		return err
	}
	defer func() { _ = web.Close(context.Background()) }()
	log.Printf("demo-traffic: connected as web over TLS; first attack round in %s, then every %s", s.firstAttack, s.attackEvery)

	tick := time.NewTicker(s.requestEvery)
	defer tick.Stop()
	nextAttack := time.Now().Add(s.firstAttack)
	round := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if err := benign(ctx, web); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Printf("demo-traffic: benign request failed (%v); reconnecting", err)
			_ = web.Close(ctx)
			if web, err = waitForWeb(ctx, s); err != nil {
				return err
			}
		}
		if time.Now().After(nextAttack) {
			round++
			attacks(ctx, s, web, round)
			nextAttack = time.Now().Add(s.attackEvery)
		}
	}
}

// waitForWeb connects as web over TLS, retrying while the cluster comes up.
func waitForWeb(ctx context.Context, s settings) (*pgx.Conn, error) {
	for i := 0; ; i++ {
		c, err := s.connect(ctx, s.hosts[i%len(s.hosts)], "web", s.webPassword, "clinic-web", true)
		if err == nil {
			return c, nil
		}
		if i%10 == 0 {
			log.Printf("demo-traffic: waiting for the cluster: %v", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// benign is one request of the web application: mostly reads of non-sensitive data,
// some patient look-ups by id, some new appointments.
func benign(ctx context.Context, c *pgx.Conn) error {
	switch n := rand.IntN(10); {
	case n < 5:
		rows, err := c.Query(ctx, "SELECT id, patient_id, starts_at, room FROM appointments WHERE starts_at > now() - INTERVAL '7 days' ORDER BY starts_at LIMIT 20")
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	case n < 8:
		var name string
		err := c.QueryRow(ctx, "SELECT full_name FROM patients WHERE id = $1", 1+rand.IntN(3)).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	default:
		_, err := c.Exec(ctx, "INSERT INTO appointments (patient_id, starts_at, room, note) VALUES ($1, now() + $2::INTERVAL, $3, $4)",
			1+rand.IntN(3), fmt.Sprintf("%d hours", 1+rand.IntN(72)), fmt.Sprintf("room-%d", 1+rand.IntN(9)), "follow-up")
		return err
	}
}

// attacks runs one round of every incident. Failures are expected (refused logins, SQL
// errors) and only logged.
func attacks(ctx context.Context, s settings, web *pgx.Conn, round int) {
	log.Printf("demo-traffic: attack round %d", round)
	plaintextSession(ctx, s)
	plaintextWrites(ctx, web)
	injection(ctx, web)
	failedLogins(ctx, s)
}

// plaintextSession: legacy_report over a non-TLS connection reads the ssn column.
func plaintextSession(ctx context.Context, s settings) {
	host := s.hosts[len(s.hosts)-1]
	c, err := s.connect(ctx, host, "legacy_report", s.legacyPassword, "legacy-report", false)
	if err != nil {
		log.Printf("demo-traffic: plaintext session to %s refused: %v", host, err)
		return
	}
	defer func() { _ = c.Close(ctx) }()
	rows, err := c.Query(ctx, "SELECT full_name, ssn, dob FROM patients ORDER BY id LIMIT 10")
	if err == nil {
		rows.Close()
		err = rows.Err()
	}
	log.Printf("demo-traffic: plaintext session (sslmode=disable) of legacy_report read patients.ssn on %s (err=%v)", host, err)
}

// plaintextWrites: the application writes an SSN and a card number in the clear into
// columns meant for ciphertext, as literals in the statement text.
func plaintextWrites(ctx context.Context, web *pgx.Conn) {
	ssn := fmt.Sprintf("%03d-%02d-%04d", 100+rand.IntN(565), 10+rand.IntN(89), 1000+rand.IntN(8999))
	_, err := web.Exec(ctx, fmt.Sprintf(
		"INSERT INTO patients (full_name, last_name, ssn, dob) VALUES ('Demo Intake', 'Intake', '%s', '1985-07-04')", ssn),
		pgx.QueryExecModeSimpleProtocol)
	log.Printf("demo-traffic: plaintext SSN written to patients.ssn (err=%v)", err)
	_, err = web.Exec(ctx, fmt.Sprintf(
		"INSERT INTO customers (email, card_number) VALUES ('demo.buyer@example.com', '%s')", luhnCard()),
		pgx.QueryExecModeSimpleProtocol)
	log.Printf("demo-traffic: plaintext card number written to customers.card_number (err=%v)", err)
}

// luhnCard returns a 16-digit Visa-shaped number with a valid Luhn check digit.
func luhnCard() string {
	d := make([]int, 16)
	d[0] = 4
	for i := 1; i < 15; i++ {
		d[i] = rand.IntN(10)
	}
	sum := 0
	for i := 14; i >= 0; i-- {
		v := d[i]
		if (15-i)%2 == 1 { // every second digit from the right, the check digit being first
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	d[15] = (10 - sum%10) % 10
	var b strings.Builder
	for _, x := range d {
		b.WriteByte(byte('0' + x))
	}
	return b.String()
}

// injection: what a vulnerable view that concatenates a request parameter into SQL sends:
// a tautology, a UNION probe, catalog probing, and a burst of errors over several shapes.
func injection(ctx context.Context, web *pgx.Conn) {
	stmts := []string{
		"SELECT id, full_name FROM patients WHERE last_name = '' OR '1'='1'",
		"SELECT id, full_name FROM patients WHERE last_name = 'x' UNION SELECT id, email FROM customers",
		"SELECT id, full_name FROM patients WHERE last_name = 'x' UNION SELECT 1, table_name FROM information_schema.tables",
		"SELECT id, full_name FROM patients WHERE last_name = 'x' UNION SELECT 1, username FROM users",
		"SELECT id, full_name FROM patients WHERE last_name = 'x' AND nosuchcolumn = 1",
		"SELECT id, full_name FROM patients WHERE id = 1 ORDER BY 99",
		"SELECT id, full_name FROM patients WHERE id = 'abc'",
		"SELECT id, full_name FROM patients WHERE last_name = 'x'' OR 1=1",
	}
	failed := 0
	for _, q := range stmts {
		rows, err := web.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
		if err == nil {
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			failed++
		}
	}
	log.Printf("demo-traffic: %d injection-shaped statements sent, %d failed as intended", len(stmts), failed)
}

// failedLogins: a burst of wrong passwords for web from this client, password spraying
// over user names that do not exist, then a successful login as web.
func failedLogins(ctx context.Context, s settings) {
	host := s.hosts[0]
	try := func(user, password string) error {
		c, err := s.connect(ctx, host, user, password, "clinic-web", true)
		if err == nil {
			_ = c.Close(ctx)
		}
		return err
	}
	failed := 0
	for i := 0; i < 8; i++ {
		if try("web", fmt.Sprintf("guess-%d-%d", i, rand.IntN(1_000_000))) != nil {
			failed++
		}
	}
	for _, u := range []string{"admin", "postgres", "sa", "django", "app", "backup", "test", "guest", "operator", "reporting", "dbadmin", "support"} {
		if try(u, "Winter2025!") != nil {
			failed++
		}
	}
	err := try("web", s.webPassword)
	log.Printf("demo-traffic: %d failed logins (burst and spraying), then a successful login as web (err=%v)", failed, err)
}
