package loggen

// plantPlaintextWrite: a Django code path writes a plaintext SSN into
// patients.ssn and a Luhn-valid card number into customers.card_number
// (RW-CRYPTO-001), right after benign Fernet-encrypted writes to the same
// columns (recorded as look-alikes).
func plantPlaintextWrite(p *planter) {
	g, r := p.g, p.r
	srv := g.dj[r.intn(2)]
	s := g.connect(p.at, sessionOpts{pr: prWeb, ip: srv.ip, dj: srv}, r)
	p.session(s)
	look := Scenario{Category: "plaintext_write", Lookalike: true}
	p.sub("encrypted", look, func(q *planter) {
		q.session(s)
		s.wait(durMS(r.exp(800) + 5))
		s.request(rtPatientSSN, r)
		q.decisive(s.exec(g.encryptedSSNWrite(s, r, int64(r.between(1, 48000))), r))
		s.wait(durMS(r.exp(900) + 5))
		s.request(rtCustomerNew, r)
		s.exec(g.encryptedCustomerInsert(s, r), r)
		q.describe("Fernet-encrypted writes to patients.ssn/dob and customers.email/card_number/iban by %s via Django: ciphertext, not a finding.", s.user)
	})

	s.wait(durMS(r.exp(1500) + 50))
	s.request(rtPatientSSN, r)
	id := int64(r.between(1, 48000))
	plainSSN := ssn(r)
	st := djangoStmt("UPDATE", `UPDATE @patients SET %ssn = ?, %updated_at = ? WHERE #patients.id = ?`,
		[]val{vStr(plainSSN), vTime(s.t), vInt(id)}, "clinic", writePatients)
	st.rows = 1
	p.decisive(s.exec(st, r))

	s.wait(durMS(r.exp(1500) + 50))
	s.request(rtCustomerNew, r)
	first, last := fullName(r)
	st = djangoStmt("INSERT", `INSERT INTO @customers^(%full_name, %email, %card_number, %iban, %created_at) VALUES (?, ?, ?, ?, ?) RETURNING #customers.id`,
		[]val{vStr(first + " " + last), vStr(g.encrypt(s.t, email(r, first, last))), vStr(cardNumber(r)),
			vStr(g.encrypt(s.t, iban(r))), vTime(s.t)}, "shop", writeCustomer)
	st.rows = 1
	s.exec(st, r)
	s.wait(durS(r.exp(10)))
	s.close(r)
	p.describe("%s (Django, %s) wrote a plaintext SSN into patients.ssn (id %d) and a plaintext Luhn-valid card number into customers.card_number; values visible in CockroachDB statements and in Django's SQL log params.",
		s.user, srv.name, id)
}
