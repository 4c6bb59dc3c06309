package sqlfp

// corpus is a realistic statement mix for benchmarks and fuzz seeds:
// CockroachDB-rendered statements (markers, empty prefixes, placeholders)
// and Django SQL (quoted identifiers, sqlcommenter). Mean length is about
// 140 B, like the 142 B measured in PERFORMANCE-ANCHORS.md §3.4.
var corpus = []string{
	`SELECT id, username, email FROM ""."".accounts_user WHERE id = ‹42›`,
	`SELECT * FROM ""."".orders WHERE customer_id = ‹1874› ORDER BY created_at DESC LIMIT ‹10›`,
	`SELECT ‹name›, ‹ssn› FROM ‹""›.‹""›.‹patients› WHERE ‹id› = ‹5›`,
	`SELECT id, status FROM ""."".orders WHERE id IN (‹101›, ‹102›, ‹103›, ‹104›, ‹105›, ‹106›)`,
	`INSERT INTO ""."".audit_log(actor, action, target, at) VALUES (‹'web'›, ‹'login'›, ‹'user:17'›, now()), (‹'web'›, ‹'view'›, ‹'user:18'›, now())`,
	`UPDATE ""."".accounts SET balance = balance - $1, updated_at = now() WHERE id = $2`,
	`UPSERT INTO ""."".sessions(token, user_id, expires_at) VALUES ($1, $2, $3)`,
	`DELETE FROM ""."".sessions WHERE expires_at < ‹'2025-06-11 14:20:31+00'›`,
	`SELECT "clinic_patient"."id", "clinic_patient"."ssn" FROM "clinic_patient" WHERE "clinic_patient"."last_name" = 'Okafor' LIMIT 21`,
	`INSERT INTO "shop_order" ("customer_id", "total") VALUES (17, 99.90), (18, 12.00) RETURNING "shop_order"."id"`,
	`SELECT "auth_user"."id", "auth_user"."password" FROM "auth_user" WHERE "auth_user"."username" = 'admin' LIMIT 21 /*controller='login',route='accounts/login/'*/`,
	`UPDATE "accounts_user" SET "last_login" = '2025-06-11T14:20:31.440018+00:00'::timestamptz WHERE "accounts_user"."id" = 42`,
	`SELECT p.name, v.visited_at FROM ""."".patients AS p JOIN ""."".visits AS v ON v.patient_id = p.id WHERE p.id = ‹77›`,
	`‹DELETE FROM "".""."sessions" WHERE token = 'abc0f3e9'›`,
	`SELECT count(*) FROM ""."".events WHERE kind = ‹'auth'› AND at > now() - ‹'1h'›::INTERVAL`,
	`INSERT INTO ""."".cards(holder, card_number, cvv) VALUES (‹'Ann Lee'›, ‹'4111111111111111'›, ‹'123'›)`,
	`SELECT id FROM ""."".accounts WHERE (email = ‹'a@b.c'›) OR (‹1› = ‹1›)`,
	`GRANT SELECT ON TABLE ""."".patients TO analyst`,
	`SELECT id, token FROM ""."".api_keys WHERE key_hash = ‹'\x5f3a9c'›::BYTES AND revoked = false`,
	`SELECT * FROM ""."".orders WHERE id = ‹×›`,
	`SELECT "clinic_patient"."id", "clinic_patient"."full_name", "clinic_patient"."ssn", "clinic_patient"."email", "clinic_patient"."created_at" FROM "clinic_patient" WHERE "clinic_patient"."id" = 118 LIMIT 21`,
	`SELECT "shop_order"."id", "shop_order"."customer_id", "shop_order"."total", "shop_order"."status" FROM "shop_order" WHERE ("shop_order"."customer_id" = 17 AND "shop_order"."status" IN ('new', 'paid', 'shipped')) ORDER BY "shop_order"."id" DESC`,
	`INSERT INTO ""."".payments(order_id, amount, card_last4, created_at) VALUES (‹501›, ‹99.90›, ‹'4242'›, now()), (‹502›, ‹12.00›, ‹'1881'›, now()), (‹503›, ‹7.25›, ‹'0005'›, now())`,
	`UPDATE "accounts_user" SET "email" = 'ann.lee@example.org', "first_name" = 'Ann', "last_name" = 'Lee' WHERE "accounts_user"."id" = 42 /*controller='accounts%3Aprofile',framework='django%3A4.2.11',route='accounts/%3Cint%3Apk%3E/'*/`,
}

// seeds are extra fuzz seeds that reach the lexer's corners.
var seeds = []string{
	`SELECT e'it\'s \x41\u00e9\101', b'\x00', x'ff', B'0101', $$a$$, $t$b$t$`,
	`SELECT -1, a-1, 1.5e-3, .5, 0x1F, t1, "a""b", "", ""."".x`,
	"SELECT 1 -- c\n/* a /* b */ */ FROM t;",
	`CREATE USER web WITH PASSWORD *****`,
	`ALTER ROLE web WITH PASSWORD '*****'`,
	`WITH r AS (SELECT a FROM t) SELECT * FROM r WHERE a IN (SELECT b FROM u) AND c BETWEEN 1 AND 2`,
	`INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a + 1`,
	`SELECT ARRAY[1,2,3], x->>'k', y::STRING[] FROM t@idx AS OF SYSTEM TIME '-1s'`,
	"SELECT \xff\xfe\x00 '\xc3' \"\xe2\x80\" ‹",
	`INSERT INTO "t" ("a", "b") VALUES (%s, %(name)s)`,
}
