package profile

// The file format: what a profile file holds, field by field, before it is
// compiled. yaml tags name the fields; decode.go fills these types from the
// YAML tree and records where each field is written.

type fileSpec struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Headers are sent with every request (name → template).
	Headers pairs `yaml:"headers"`
	// Token says how the admission token is sent; default
	// "Authorization: Bearer {{.Token}}".
	Token *tokenSpec `yaml:"token"`
	// ErrorCode is the gjson path of the error code in answers that are
	// not ok.
	ErrorCode string `yaml:"error_code"`
	// RetryAfter lists where the retry advice may be, tried in order.
	RetryAfter []retrySpec    `yaml:"retry_after"`
	Operations operationsSpec `yaml:"operations"`
	Outcomes   []outcomeSpec  `yaml:"outcomes"`
}

type tokenSpec struct {
	Header string `yaml:"header"`
	Value  string `yaml:"value"`
}

// retrySpec is one place the retry advice may be: a header or a body field
// (a gjson path), in seconds or milliseconds.
type retrySpec struct {
	Header string `yaml:"header"`
	Body   string `yaml:"body"`
	// Unit is "s" (default) or "ms".
	Unit string `yaml:"unit"`
}

type operationsSpec struct {
	ListPPVs    *opSpec[ppvsRead]    `yaml:"list_ppvs"`
	ListSlots   *opSpec[slotsRead]   `yaml:"list_slots"`
	Book        *opSpec[bookRead]    `yaml:"book"`
	QueueJoin   *opSpec[queueRead]   `yaml:"queue_join"`
	QueuePoll   *opSpec[queueRead]   `yaml:"queue_poll"`
	GetBooking  *opSpec[bookingRead] `yaml:"get_booking"`
	FindBooking *opSpec[bookingRead] `yaml:"find_booking"`
	// Step is a journey step's call (a login, an OTP, a captcha); its
	// templates see the step's name as .Step and its path as .StepPath.
	Step *opSpec[stepRead] `yaml:"step"`
}

// opSpec is how one operation is sent, and R what is read from its
// successful answer.
type opSpec[R any] struct {
	Method  string `yaml:"method"`
	Path    string `yaml:"path"`
	Query   pairs  `yaml:"query"`
	Headers pairs  `yaml:"headers"`
	Body    string `yaml:"body"`
	Read    R      `yaml:"read"`
}

type ppvsRead struct {
	List  string `yaml:"list"`
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	State string `yaml:"state"`
}

type slotsRead struct {
	List      string `yaml:"list"`
	Date      string `yaml:"date"`
	Capacity  string `yaml:"capacity"`
	Remaining string `yaml:"remaining"`
}

// stepRead reads nothing: a step's answer is its status.
type stepRead struct{}

type bookRead struct {
	ID string `yaml:"id"`
}

type queueRead struct {
	Ticket   string     `yaml:"ticket"`
	Admitted *matchSpec `yaml:"admitted"`
	Token    string     `yaml:"token"`
	// Date, optional, is the day (YYYY-MM-DD) a room per centre sends an
	// admitted person to book.
	Date string `yaml:"date"`
}

type bookingRead struct {
	ID        string `yaml:"id"`
	Person    string `yaml:"person"`
	PPV       string `yaml:"ppv"`
	Date      string `yaml:"date"`
	CreatedAt string `yaml:"created_at"`
}

// matchSpec matches an answer's body: the value at Path exists and, when
// Equals is set, has that text.
type matchSpec struct {
	Path   string  `yaml:"path"`
	Equals *scalar `yaml:"equals"`
}

// outcomeSpec says that answers with one of Status (to one of Ops, all when
// empty), whose body matches When (when set), are of Kind, and where their
// retry advice is.
type outcomeSpec struct {
	Kind       string      `yaml:"kind"`
	Status     statusList  `yaml:"status"`
	Ops        []string    `yaml:"ops"`
	When       *matchSpec  `yaml:"when"`
	RetryAfter []retrySpec `yaml:"retry_after"`
}

// pairs is a YAML mapping of names to templates, in file order.
type pairs []pair

type pair struct {
	Name, Value string
	field       string // the YAML path of the value
}

// statusList is one HTTP status or a list of them.
type statusList []int

// scalar is the text of any YAML scalar (a string, a number, a boolean).
type scalar string
