package dynamostore

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// These tests need no DynamoDB: they construct the SDK's errors.

// reason returns a cancellation reason with code and, when item is not nil,
// the item ALL_OLD returned.
func reason(code string, item map[string]types.AttributeValue) types.CancellationReason {
	return types.CancellationReason{Code: aws.String(code), Item: item}
}

// canceled returns a TransactionCanceledException of the reasons, wrapped
// as the SDK returns it.
func canceled(reasons ...types.CancellationReason) error {
	return opErr(&types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons})
}

// opErr wraps err as the SDK's operation error.
func opErr(err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "TransactWriteItems", Err: err}
}

func slotItem(remaining int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrRemaining: num(remaining)}
}

func tokItem(tok string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrToken: str(tok)}
}

// withRetryAfter wraps err in an HTTP response error whose response has a
// Retry-After header.
func withRetryAfter(err error, v string) error {
	resp := &http.Response{StatusCode: 400, Header: http.Header{"Retry-After": []string{v}}}
	return opErr(&awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: resp}, Err: err,
	}})
}

func TestClassify(t *testing.T) {
	t.Parallel()
	const tok = "mine"
	none := reason("None", nil)
	ccf := func(item map[string]types.AttributeValue) types.CancellationReason {
		return reason(codeCondition, item)
	}
	for _, tc := range []struct {
		name string
		err  error
		want outcome
	}{
		{"nil", nil, outcome{kind: kindCommitted}},
		{"sold out", canceled(ccf(slotItem(0)), none, none), outcome{kind: kindSoldOut}},
		{"no slot item", canceled(ccf(nil), none, none), outcome{kind: kindNoSlot}},
		{"slot moved", canceled(ccf(slotItem(3)), none, none), outcome{kind: kindSlotMoved, remaining: 3}},
		{"slot moved, no count", canceled(ccf(map[string]types.AttributeValue{"x": num(1)}), none, none), outcome{kind: kindFault}},
		{"person holds a booking", canceled(none, ccf(nil), none), outcome{kind: kindDuplicate}},
		{"booking id taken", canceled(none, none, ccf(tokItem("other"))), outcome{kind: kindDuplicate}},
		{"own earlier write", canceled(ccf(slotItem(3)), ccf(nil), ccf(tokItem(tok))), outcome{kind: kindOwnWrite}},
		{"moved and duplicate", canceled(ccf(slotItem(3)), ccf(nil), none), outcome{kind: kindDuplicate}},
		{"sold out and duplicate", canceled(ccf(slotItem(0)), ccf(nil), none), outcome{kind: kindSoldOut}},
		{"conflict", canceled(reason(codeConflict, nil), none, none), outcome{kind: kindConflict}},
		{"conflict on the person", canceled(none, reason(codeConflict, nil), none), outcome{kind: kindConflict}},
		{"throttled reason", canceled(none, reason("ThrottlingError", nil), none), outcome{kind: kindThrottled}},
		{"provisioned reason", canceled(reason("ProvisionedThroughputExceeded", nil), none, none), outcome{kind: kindThrottled}},
		{"validation reason", canceled(reason("ValidationError", nil), none, none), outcome{kind: kindFault}},
		{"provisioned", opErr(&types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}), outcome{kind: kindThrottled}},
		{"throttling", opErr(&types.ThrottlingException{}), outcome{kind: kindThrottled}},
		{"request limit", opErr(&types.RequestLimitExceeded{}), outcome{kind: kindThrottled}},
		{"generic throttling", opErr(&smithy.GenericAPIError{Code: "ThrottlingException"}), outcome{kind: kindThrottled}},
		{"retry-after", withRetryAfter(&types.ThrottlingException{}, "2"), outcome{kind: kindThrottled, retryAfter: 2 * time.Second}},
		{"bad retry-after", withRetryAfter(&types.ThrottlingException{}, "soon"), outcome{kind: kindThrottled}},
		{"conflict exception", opErr(&types.TransactionConflictException{}), outcome{kind: kindConflict}},
		{"in progress", opErr(&types.TransactionInProgressException{}), outcome{kind: kindFault}},
		{"other", errors.New("connection reset by peer"), outcome{kind: kindFault}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := classify(tc.err, tok); got != tc.want {
				t.Errorf("classify(%v) = %+v; want %+v", tc.err, got, tc.want)
			}
		})
	}
}

// fakeAPI answers a partition's booking transactions with answer, called
// with the number of the call (0, 1, ...) and its input, and GetItem with
// getItem.
type fakeAPI struct {
	answer  func(n int, in *dynamodb.TransactWriteItemsInput) error
	getItem func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)

	mu     sync.Mutex // guards inputs
	inputs []*dynamodb.TransactWriteItemsInput
}

func (f *fakeAPI) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.mu.Lock()
	n := len(f.inputs)
	f.inputs = append(f.inputs, in)
	f.mu.Unlock()
	if err := f.answer(n, in); err != nil {
		return nil, err
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (f *fakeAPI) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if f.getItem == nil {
		return &dynamodb.GetItemOutput{}, nil
	}
	return f.getItem(in)
}

// expects returns the slot count each transaction expected.
func (f *fakeAPI) expects() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, in := range f.inputs {
		out = append(out, in.TransactItems[actSlot].Update.ExpressionAttributeValues[":expect"].(*types.AttributeValueMemberN).Value)
	}
	return out
}

// fakePartition returns a partition of one slot of capacity places over api.
func fakePartition(api bookAPI, capacity int) (*Partition, models.Slot) {
	s := models.Slot{PPV: "wtc", Date: models.Date{Year: 2021, Month: 6, Day: 7}, Capacity: capacity}
	p := newPartition(&Store{table: "fake", db: &clients{}}, models.Partition{Key: "all", Slots: []models.Slot{s}})
	p.api = api
	return p, s
}

func tokenOf(in *dynamodb.TransactWriteItemsInput) string { return aws.ToString(in.ClientRequestToken) }

// TestBookOutcomes: how Book answers the engine's answers, without DynamoDB.
func TestBookOutcomes(t *testing.T) {
	t.Parallel()
	conflict := canceled(reason("None", nil), reason(codeConflict, nil), reason("None", nil))
	throttled := opErr(&types.ProvisionedThroughputExceededException{})
	for _, tc := range []struct {
		name      string
		answer    func(n int, in *dynamodb.TransactWriteItemsInput) error
		readsBack bool // a GetItem finds the booking item of the last transaction
		remaining int
		err       error  // errors.Is target; nil for success
		expects   string // the counts the transactions expected
		stats     store.PartitionStats
	}{
		{name: "committed", answer: func(int, *dynamodb.TransactWriteItemsInput) error { return nil },
			remaining: 9, expects: "10", stats: store.PartitionStats{Committed: 1}},
		{name: "throttled", answer: func(int, *dynamodb.TransactWriteItemsInput) error { return throttled },
			err: store.ErrThrottled, expects: "10", stats: store.PartitionStats{Failed: 1}},
		{name: "slot moved, then committed", answer: func(n int, _ *dynamodb.TransactWriteItemsInput) error {
			if n == 0 {
				return canceled(reason(codeCondition, slotItem(4)), reason("None", nil), reason("None", nil))
			}
			return nil
		}, remaining: 3, expects: "10 4", stats: store.PartitionStats{Committed: 1}},
		{name: "sold out by another process", answer: func(int, *dynamodb.TransactWriteItemsInput) error {
			return canceled(reason(codeCondition, slotItem(0)), reason("None", nil), reason("None", nil))
		}, err: store.ErrSoldOut, expects: "10", stats: store.PartitionStats{Rejected: 1}},
		{name: "conflicts, then committed", answer: func(n int, _ *dynamodb.TransactWriteItemsInput) error {
			if n < 2 {
				return conflict
			}
			return nil
		}, remaining: 9, expects: "10 10 10", stats: store.PartitionStats{Committed: 1}},
		{name: "conflicts without end", answer: func(int, *dynamodb.TransactWriteItemsInput) error { return conflict },
			err: store.ErrThrottled, expects: strings.Repeat("10 ", maxConflicts) + "10", stats: store.PartitionStats{Failed: 1}},
		{name: "own write found on resend", answer: func(n int, in *dynamodb.TransactWriteItemsInput) error {
			return canceled(reason(codeCondition, slotItem(9)), reason(codeCondition, nil), reason(codeCondition, tokItem(tokenOf(in))))
		}, remaining: 9, expects: "10", stats: store.PartitionStats{Committed: 1}},
		{name: "fault, booking found", answer: func(int, *dynamodb.TransactWriteItemsInput) error { return errors.New("connection reset") },
			readsBack: true, remaining: 9, expects: "10", stats: store.PartitionStats{Committed: 1}},
		{name: "fault, nothing written", answer: func(int, *dynamodb.TransactWriteItemsInput) error { return errors.New("connection reset") },
			err: errFault, expects: "10", stats: store.PartitionStats{Failed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{answer: tc.answer}
			if tc.readsBack { // the booking item carries the token sent
				api.getItem = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
					api.mu.Lock()
					defer api.mu.Unlock()
					return &dynamodb.GetItemOutput{Item: tokItem(tokenOf(api.inputs[len(api.inputs)-1]))}, nil
				}
			}
			p, s := fakePartition(api, 10)
			left, err := p.Book(context.Background(), record("b1", "ali", s))
			switch {
			case tc.err == errFault:
				if err == nil || errors.Is(err, store.ErrThrottled) || errors.Is(err, store.ErrDuplicate) {
					t.Errorf("Book = %d, %v; want a storage fault", left, err)
				}
			case tc.err != nil && !errors.Is(err, tc.err), tc.err == nil && (err != nil || left != tc.remaining):
				t.Errorf("Book = %d, %v; want %d, %v", left, err, tc.remaining, tc.err)
			}
			if got := strings.Join(api.expects(), " "); got != tc.expects {
				t.Errorf("transactions expected counts %q; want %q", got, tc.expects)
			}
			checkTokens(t, api.inputs)
			st := p.Stats()
			if st.Committed != tc.stats.Committed || st.Rejected != tc.stats.Rejected || st.Failed != tc.stats.Failed ||
				st.Batches != int64(len(api.inputs)) {
				t.Errorf("Stats = %+v; want %+v and one batch per transaction (%d)", st, tc.stats, len(api.inputs))
			}
		})
	}
}

// errFault stands for "any storage fault" in TestBookOutcomes.
var errFault = errors.New("fault")

// checkTokens fails the test unless every transaction carries its own
// ClientRequestToken of at most 36 characters.
func checkTokens(t *testing.T, inputs []*dynamodb.TransactWriteItemsInput) {
	t.Helper()
	seen := map[string]bool{}
	for _, in := range inputs {
		tok := tokenOf(in)
		if tok == "" || len(tok) > 36 || seen[tok] {
			t.Errorf("ClientRequestToken %q: want a fresh token of 1 to 36 characters", tok)
		}
		seen[tok] = true
		if got, _ := getS(in.TransactItems[actBooking].Put.Item, attrToken); got != tok {
			t.Errorf("booking item token %q; want the request's %q", got, tok)
		}
	}
}

// TestThrottledError: a throttled booking is a *store.ThrottledError with
// the engine's delay.
func TestThrottledError(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answer: func(int, *dynamodb.TransactWriteItemsInput) error {
		return withRetryAfter(&types.ProvisionedThroughputExceededException{}, "3")
	}}
	p, s := fakePartition(api, 10)
	_, err := p.Book(context.Background(), record("b1", "ali", s))
	var te *store.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != 3*time.Second || !errors.Is(err, store.ErrThrottled) {
		t.Errorf("Book err = %v; want a *store.ThrottledError retrying after 3s", err)
	}
}

// TestSoldOutForGood: once a slot's count reached 0, Book answers sold out
// without a request; counts only go down.
func TestSoldOutForGood(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{answer: func(int, *dynamodb.TransactWriteItemsInput) error { return nil }}
	p, s := fakePartition(api, 1)
	if left, err := p.Book(context.Background(), record("b1", "ali", s)); err != nil || left != 0 {
		t.Fatalf("Book = %d, %v; want 0 left", left, err)
	}
	if _, err := p.Book(context.Background(), record("b2", "bob", s)); !errors.Is(err, store.ErrSoldOut) {
		t.Errorf("Book of a sold-out slot: err = %v; want ErrSoldOut", err)
	}
	if n := len(api.inputs); n != 1 {
		t.Errorf("%d transactions; want 1", n)
	}
}

// TestWaitForTurn: a booking whose context ends while it waits for its
// slot's turn returns the context's error and sends nothing; one that was
// sent waits for its outcome even if its context ends.
func TestWaitForTurn(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	api := &fakeAPI{answer: func(n int, _ *dynamodb.TransactWriteItemsInput) error {
		if n == 0 {
			<-release
		}
		return nil
	}}
	p, s := fakePartition(api, 10)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := p.Book(ctx, record("b1", "ali", s))
		first <- err
	}()
	for len(p.slots[s.Key()].turn) == 0 { // until the first holds the turn
		time.Sleep(time.Millisecond)
	}
	short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if _, err := p.Book(short, record("b2", "bob", s)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Book waiting for the turn: err = %v; want context.DeadlineExceeded", err)
	}
	cancel()
	close(release)
	if err := <-first; err != nil {
		t.Errorf("Book sent before its context ended: err = %v; want its outcome (nil)", err)
	}
	if n := len(api.inputs); n != 1 {
		t.Errorf("%d transactions; want 1", n)
	}
}

// TestClose: Close waits for a booking under way; afterwards Book and the
// reads answer ErrClosed.
func TestClose(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	api := &fakeAPI{answer: func(int, *dynamodb.TransactWriteItemsInput) error { <-release; return nil }}
	p, s := fakePartition(api, 10)
	p.st.db.transport = &http.Transport{}
	done := make(chan error, 1)
	go func() {
		_, err := p.Book(context.Background(), record("b1", "ali", s))
		done <- err
	}()
	for len(p.slots[s.Key()].turn) == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() {
		_ = p.st.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a booking was under way")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-closed
	if err := <-done; err != nil {
		t.Errorf("booking under way at Close: %v; want it committed", err)
	}
	ctx := context.Background()
	if _, err := p.Book(ctx, record("b2", "bob", s)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Book after Close: err = %v; want ErrClosed", err)
	}
	if _, err := p.Slots(ctx, s.PPV, s.Date, s.Date); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Slots after Close: err = %v; want ErrClosed", err)
	}
	if _, err := p.st.PersonBooking(ctx, "ali"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("PersonBooking after Close: err = %v; want ErrClosed", err)
	}
	if err := p.st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
