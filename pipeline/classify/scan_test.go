package classify

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type found struct{ Typ, Secret string }

func scanAll(c *Classifier, text string) []found {
	var got []found
	c.ScanSecrets([]byte(text), func(typ string, secret []byte) {
		got = append(got, found{typ, string(secret)})
	})
	return got
}

// Token-shaped fixtures are assembled at run time so that no literal in
// the repository looks like a live credential to secret scanners.
var (
	jwtHeader64  = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	jwtPayload64 = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"42","name":"alice"}`))
	testJWT      = jwtHeader64 + "." + jwtPayload64 + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	awsKey       = "AKIA" + "IOSFODNN7EXAMPL2"
	awsSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
	gcpKey       = "AIza" + "SyD-1234567890abcdefghijklmnopqrstu"
	githubToken  = "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a"
	githubPAT    = "github_pat_" + "11ABCDEFG0123456789_" + strings.Repeat("aB3", 20)
	slackToken   = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	stripeKey    = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
	djangoKey    = "django-insecure-" + "k3#j@9x!2m$v8z^q&w7e*r(t)y-u_i=o+p1a4s5d6f0g"
	pemKey       = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n-----END RSA PRIVATE KEY-----"
)

func TestScanSecrets(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	cases := []struct {
		name string
		in   string
		want []found
	}{
		// dsn_password
		{"postgresql url", "connecting to postgresql://app:s3cr3t@db:26257/app?sslmode=verify-full", []found{{"dsn_password", "s3cr3t"}}},
		{"postgres url", `DATABASE_URL="postgres://root:hunter2@localhost/db"`, []found{{"dsn_password", "hunter2"}}},
		{"cockroachdb url", "cockroachdb://u:p%40ss@h:26257/d", []found{{"dsn_password", "p%40ss"}}},
		{"mysql url", "mysql://u:pw123@h/d", []found{{"dsn_password", "pw123"}}},
		{"redis url no user", "CACHE redis://:r3dispass@cache:6379/0", []found{{"dsn_password", "r3dispass"}}},
		{"amqp url", "broker amqp://guest:guestpw@rabbit//", []found{{"dsn_password", "guestpw"}}},
		{"mongodb srv", "mongodb+srv://u:m0ngo@cluster0.example.net/db", []found{{"dsn_password", "m0ngo"}}},
		{"sqlalchemy driver", "postgresql+psycopg://u:alch3my@h/d", []found{{"dsn_password", "alch3my"}}},
		{"url without password", "postgresql://app@db:26257/app", nil},
		{"url masked", "postgresql://app:*****@db/app", nil},
		{"url xxxxx", "postgres://app:xxxxx@db/app", nil},
		{"url format verb", "postgres://%s:%s@%s/%s", nil},
		{"https url", "GET https://user:pw@example.com/ failed", nil},
		{"libpq key value", "dsn: host=db port=26257 user=app password=Pg_s3cret dbname=app", []found{{"dsn_password", "Pg_s3cret"}}},
		{"libpq quoted", "host=db user=app password='with space' sslmode=require", []found{{"dsn_password", "with space"}}},

		// jwt
		{"jwt bearer", "Authorization: Bearer " + testJWT, []found{{"jwt", testJWT}}},
		{"jwt random dotted", "eyJhbGxvdGhlcmU.eyJmb28.bar", nil},
		{"dotted version", "package eyJ.1.2 loaded", nil},

		// cloud and SaaS keys
		{"aws access key", "key id " + awsKey + " used", []found{{"aws_access_key", awsKey}}},
		{"aws key too short", "AKIA" + "IOSFODNN7EXAMP", nil},
		{"aws key lower case", "AKIA" + "iosfodnn7examplx", nil},
		{"aws secret env", "AWS_SECRET_ACCESS_KEY=" + awsSecret, []found{{"aws_secret_key", awsSecret}}},
		{"aws secret json", `{"secret_access_key": "` + awsSecret + `"}`, []found{{"aws_secret_key", awsSecret}}},
		{"aws secret wrong length", "aws_secret_access_key=" + awsSecret[:39], nil},
		{"gcp key", "maps key=" + gcpKey, []found{{"gcp_api_key", gcpKey}}},
		{"gcp key too short", "AIza" + "SyD-1234567890", nil},
		{"github classic", "token " + githubToken, []found{{"github_token", githubToken}}},
		{"github fine grained", "GH=" + githubPAT, []found{{"github_token", githubPAT}}},
		{"github look-alike", "branch ghp_feature_login_page_redesign", nil},
		{"slack", "slack " + slackToken, []found{{"slack_token", slackToken}}},
		{"slack look-alike", "xoxb-placeholder-token-here-abc", nil},
		{"stripe live", "stripe " + stripeKey, []found{{"stripe_key", stripeKey}}},
		{"stripe test key", "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc", nil},
		{"private key", "key:\n" + pemKey + "\nrest", []found{{"private_key", pemKey}}},
		{"public key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----", nil},
		{"pgp message", "-----BEGIN PGP MESSAGE-----\nww0E\n-----END PGP MESSAGE-----", nil},

		// django_secret_key
		{"django insecure", "SECRET_KEY = '" + djangoKey + "'", []found{{"django_secret_key", djangoKey}}},
		{"secret key assignment", "SECRET_KEY = 'Zq8v1xT3kLm9Pw2rYb6nHc4sJd7fGa5e'", []found{{"django_secret_key", "Zq8v1xT3kLm9Pw2rYb6nHc4sJd7fGa5e"}}},
		{"secret key json", `{"SECRET_KEY": "Zq8v1xT3kLm9Pw2rYb6nHc4sJd7fGa5e"}`, []found{{"django_secret_key", "Zq8v1xT3kLm9Pw2rYb6nHc4sJd7fGa5e"}}},
		{"secret key from env", "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']", nil},
		{"secret key short", "SECRET_KEY = 'dev'", nil},
		{"secret key masked", "'SECRET_KEY': '********************'", nil},

		// password_assignment
		{"python kwarg", "connect(user='app', password='hunter2')", []found{{"password_assignment", "hunter2"}}},
		{"json password", `{"username": "alice", "password": "Tr0ub4dor&3"}`, []found{{"password_assignment", "Tr0ub4dor&3"}}},
		{"escaped json", `{\"password\": \"Tr0ub4dor\"}`, []found{{"password_assignment", "Tr0ub4dor"}}},
		{"settings dict", "'PASSWORD': 'dbpass'", []found{{"password_assignment", "dbpass"}}},
		{"passwd unquoted", "passwd=letmein now", []found{{"password_assignment", "letmein"}}},
		{"form field", "new_password1='s3cret!'", []found{{"password_assignment", "s3cret!"}}},
		{"sql where", "SELECT id FROM users WHERE password = 'plain'", []found{{"password_assignment", "plain"}}},
		{"crdb masked", "CREATE USER app WITH PASSWORD '*****'", nil},
		{"crdb alter", "ALTER USER app WITH PASSWORD 'x'", nil},
		{"django masked", "'PASSWORD': '********************'", nil},
		{"empty", `"password": ""`, nil},
		{"format placeholder", "password=%s", nil},
		{"sql placeholder", "UPDATE u SET password = $1", nil},
		{"kwarg passthrough", "authenticate(username=username, password=password)", nil},
		{"attribute", "password=self.password", nil},
		{"type annotation", "def login(user: str, password: str):", nil},
		{"comparison", "if password == stored:", nil},
		{"hash", `"password": "pbkdf2_sha256$600000$salt$hash="`, nil},
		{"password reset setting", "PASSWORD_RESET_TIMEOUT = 3600", nil},
		{"password field name", "column password_hash is bytes", nil},

		// personal data
		{"ssn", "patient ssn 123-45-6789 updated", []found{{"ssn", "123-45-6789"}}},
		{"ssn bad area", "ref 666-45-6789", nil},
		{"ssn short", "ref 123-45-678 done", nil},
		{"ssn spaced", "ref 123 45 6789", nil},
		{"ssn in longer dashed id", "id 2024-123-45-6789", nil},
		{"pan", "charged card 4111111111111111 ok", []found{{"pan", "4111111111111111"}}},
		{"pan spaced", "card=4111 1111 1111 1111;", []found{{"pan", "4111 1111 1111 1111"}}},
		{"pan dashed", "card 5555-5555-5555-4444.", []found{{"pan", "5555-5555-5555-4444"}}},
		{"pan amex grouped", "amex 3782 822463 10005 end", []found{{"pan", "3782 822463 10005"}}},
		{"pan after number", "qty 12 4111 1111 1111 1111", []found{{"pan", "4111 1111 1111 1111"}}},
		{"pan luhn invalid", "card 4111111111111112", nil},
		{"pan inside longer run", "id 94111111111111111", nil},
		{"pan in hex", "sha deadbeef4111111111111111cafe", nil},
		{"pan in uuid", "id 41111111-1111-1111-1111-111111111111", nil},
		{"epoch micros", "ts 1705312245123456", nil},
		{"order number", "order 2024011512345678", nil},
		{"decimal", "amount 4111111111111111.50", nil},
		{"iban compact", "iban DE89370400440532013000 ok", []found{{"iban", "DE89370400440532013000"}}},
		{"iban spaced", "pay to GB29 NWBK 6016 1331 9268 19 today", []found{{"iban", "GB29 NWBK 6016 1331 9268 19"}}},
		{"iban nl spaced", "NL91 ABNA 0417 1643 00", []found{{"iban", "NL91 ABNA 0417 1643 00"}}},
		{"iban bad checksum", "iban DE89370400440532013001", nil},
		{"iban unknown country", "ZZ89370400440532013000", nil},
		{"email not reported", "user alice@example.com logged in", nil},

		// benign SQL and Django messages
		{"sql", "SELECT u.id, u.email FROM auth_user AS u WHERE u.id = $1 AND u.is_active LIMIT 21", nil},
		{"sql numbers", "INSERT INTO orders (id, total, created) VALUES (1024, 99.95, '2024-01-15 10:30:45.123456')", nil},
		{"django request", `"GET /api/v1/orders/?page=2 HTTP/1.1" 200 5123`, nil},
		{"traceback", `File "/app/views.py", line 42, in login: user.check_password(raw)`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, scanAll(c, tc.in), "%q", tc.in)
		})
	}
}

func TestScanPrivateKeyCap(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	text := "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("A", 10000)
	got := scanAll(c, text)
	require.Len(t, got, 1)
	require.Equal(t, "private_key", got[0].Typ)
	require.Len(t, got[0].Secret, maxPEM)
}

// TestScanPathological runs inputs made of repeated anchors and run bytes;
// a quadratic recognizer would take minutes here instead of milliseconds.
func TestScanPathological(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	for _, unit := range []string{"assw", "ASSW", "://", "postgres://a:b", "eyJ", "eyJhbGciOiJ.", "SECRET_KEY='",
		"-----BEGIN ", "-----BEGIN PRIVATE KEY-----", "1", "1 ", "1-", "DE89 ", "a", "password=x host=' "} {
		t.Run(unit, func(t *testing.T) {
			text := []byte(strings.Repeat(unit, (1<<18)/len(unit)))
			c.ScanSecrets(text, func(string, []byte) {})
			c.Value(text)
		})
	}
}
