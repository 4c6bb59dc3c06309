package loggen

// request starts a Django request on the session: sets the sqlcommenter
// comment and runs the session and user lookups Django's middleware does.
func (s *session) request(rt *route, r *rng) {
	s.comment, s.commentRaw = rt.comment, rt.commentRaw
	s.exec(djangoStmt("SELECT", `SELECT #django_session.session_key, #django_session.session_data, #django_session.expire_date FROM @django_session WHERE (^(~#django_session.expire_date > ?~) AND (~#django_session.session_key = ?~)^) LIMIT 21`,
		[]val{vTime(s.t), vStr(r.hex(32))}, "clinic"), r)
	s.wait(durMS(0.3 + r.exp(0.6)))
	s.exec(djangoStmt("SELECT", `SELECT #auth_user.id, #auth_user.password, #auth_user.last_login, #auth_user.is_superuser, #auth_user.username, #auth_user.first_name, #auth_user.last_name, #auth_user.email, #auth_user.is_staff, #auth_user.is_active, #auth_user.date_joined FROM @auth_user WHERE #auth_user.id = ? LIMIT 21`,
		[]val{vInt(int64(r.between(1, 240)))}, "clinic"), r)
	s.wait(durMS(0.3 + r.exp(0.8)))
}

// djRequestLog logs a django.request line for the current request.
func (s *session) djRequestLog(level, msg string, status int, method, path string) {
	if s.dj == nil {
		return
	}
	s.g.emitDjango(s.dj, requestRecord(s.t+durMS(1.2), s.worker, level, "django.request", msg, status, method, path))
}

// webRequest runs one benign request of the Django application.
func (g *Generator) webRequest(s *session, r *rng) {
	switch k := r.intn(100); {
	case k < 25:
		s.request(rtPatientDetail, r)
		id := int64(r.between(1, 48000))
		st := djangoStmt("SELECT", `SELECT #patients.id, #patients.full_name, #patients.last_name, #patients.dob, #patients.ssn, #patients.updated_at FROM @patients WHERE #patients.id = ? LIMIT 21`,
			[]val{vInt(id)}, "clinic", readPatients)
		st.rows = 1
		if r.chance(0.04) {
			st.rows = 0
		}
		s.exec(st, r)
		if st.rows == 0 {
			s.djRequestLog("WARNING", "Not Found: /api/patients/"+itoa(id)+"/", 404, "GET", "/api/patients/"+itoa(id)+"/")
		}
	case k < 40:
		s.request(rtPatientList, r)
		last := pick(r, lastNames)
		st := djangoStmt("SELECT", `SELECT #patients.id, #patients.full_name, #patients.last_name FROM @patients WHERE #patients.last_name = ? ORDER BY #patients.full_name ASC LIMIT 21`,
			[]val{vStr(last)}, "clinic", readPatients)
		st.rows = int64(r.intn(14))
		s.exec(st, r)
	case k < 60:
		s.request(rtOrders, r)
		st := djangoStmt("SELECT", `SELECT #orders.id, #orders.customer_id, #orders.total, #orders.status, #orders.created_at FROM @orders WHERE #orders.customer_id = ? ORDER BY #orders.created_at DESC LIMIT 21`,
			[]val{vInt(int64(r.between(1, 250000)))}, "shop")
		st.rows = int64(r.intn(21))
		s.exec(st, r)
	case k < 70:
		s.request(rtCustomer, r)
		st := djangoStmt("SELECT", `SELECT #customers.id, #customers.full_name, #customers.email, #customers.card_number, #customers.iban, #customers.created_at FROM @customers WHERE #customers.id = ? LIMIT 21`,
			[]val{vInt(int64(r.between(1, 250000)))}, "shop", readCustomers)
		st.rows = 1
		s.exec(st, r)
	case k < 76:
		s.request(rtPatientSSN, r)
		s.exec(g.encryptedSSNWrite(s, r, int64(r.between(1, 48000))), r)
	case k < 81:
		s.request(rtCustomerNew, r)
		s.exec(g.encryptedCustomerInsert(s, r), r)
	case k < 88:
		g.login(s, r)
	case k < 89:
		g.longNote(s, r)
	default:
		s.request(rtSearch, r)
		st := searchStmt(pick(r, productWords))
		st.rows = int64(r.intn(21))
		s.exec(st, r)
	}
}

// searchStmt is an icontains product search; the literal is user input.
func searchStmt(q string) *stmt {
	return djangoStmt("SELECT", `SELECT #products.id, #products.name, #products.price FROM @products WHERE {UPPER|upper}(#products.name::{text|STRING}) LIKE {UPPER|upper}(?) ORDER BY #products.name ASC LIMIT 21`,
		[]val{vStr("%" + q + "%")}, "shop")
}

// login is the login form: a user lookup by name and a last_login update,
// sometimes a CSRF failure instead.
func (g *Generator) login(s *session, r *rng) {
	s.comment, s.commentRaw = rtLogin.comment, rtLogin.commentRaw
	if r.chance(0.06) {
		reason := pick(r, []string{"CSRF token missing.", "CSRF cookie not set.", "CSRF token from POST incorrect."})
		if s.dj != nil {
			g.emitDjango(s.dj, requestRecord(s.t+durMS(0.8), s.worker, "WARNING", "django.security.csrf",
				"Forbidden ("+reason+"): /accounts/login/", 403, "POST", "/accounts/login/"))
		}
		return
	}
	user := pick(r, usernames)
	st := djangoStmt("SELECT", `SELECT #auth_user.id, #auth_user.password, #auth_user.last_login, #auth_user.is_superuser, #auth_user.username, #auth_user.is_active FROM @auth_user WHERE #auth_user.username = ? LIMIT 21`,
		[]val{vStr(user)}, "clinic")
	st.rows = 1
	s.exec(st, r)
	s.wait(durMS(r.logNormal(180, 0.2))) // password hash check in Django
	s.exec(djangoStmt("UPDATE", `UPDATE @auth_user SET %last_login = ? WHERE #auth_user.id = ?`,
		[]val{vTime(s.t), vInt(int64(r.between(1, 240)))}, "clinic"), r)
}

// encryptedSSNWrite is the benign write of a Fernet-encrypted SSN and DOB.
func (g *Generator) encryptedSSNWrite(s *session, r *rng, id int64) *stmt {
	tok := g.encrypt(s.t, ssn(r))
	dob := g.encrypt(s.t, "19"+itoa(int64(r.between(40, 99)))+"-0"+itoa(int64(r.between(1, 9)))+"-1"+itoa(int64(r.between(0, 9))))
	st := djangoStmt("UPDATE", `UPDATE @patients SET %ssn = ?, %dob = ?, %updated_at = ? WHERE #patients.id = ?`,
		[]val{vStr(tok), vStr(dob), vTime(s.t), vInt(id)}, "clinic", writePatients)
	st.rows = 1
	return st
}

// encryptedCustomerInsert creates a customer with Fernet-encrypted email,
// card number and IBAN.
func (g *Generator) encryptedCustomerInsert(s *session, r *rng) *stmt {
	first, last := fullName(r)
	st := djangoStmt("INSERT", `INSERT INTO @customers^(%full_name, %email, %card_number, %iban, %created_at) VALUES (?, ?, ?, ?, ?) RETURNING #customers.id`,
		[]val{vStr(first + " " + last), vStr(g.encrypt(s.t, email(r, first, last))), vStr(g.encrypt(s.t, cardNumber(r))),
			vStr(g.encrypt(s.t, iban(r))), vTime(s.t)}, "shop", writeCustomer)
	st.rows = 1
	return st
}

// longNote stores a long clinical note: statements above 16 KB exercise
// crdb-v2 '|' continuation lines with the ›‹ rule at the split.
func (g *Generator) longNote(s *session, r *rng) {
	s.request(rtPatientDetail, r)
	sentences := []string{
		"Patient reports improved mobility since the last visit. ",
		"Blood pressure within normal range; continue current medication. ",
		"Discussed diet and exercise plan, follow-up in six weeks. ",
		"No adverse reaction to the adjusted dosage was observed. ",
	}
	var body []byte
	for target := r.between(17000, 40000); len(body) < target; {
		body = append(body, pick(r, sentences)...)
	}
	st := djangoStmt("INSERT", `INSERT INTO @notes^(%patient_id, %author_id, %body, %created_at) VALUES (?, ?, ?, ?) RETURNING #notes.id`,
		[]val{vInt(int64(r.between(1, 48000))), vInt(int64(r.between(1, 240))), vStr(string(body)), vTime(s.t)}, "clinic")
	st.rows, st.latMS = 1, r.logNormal(9, 0.3)
	s.exec(st, r)
}
