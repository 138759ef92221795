package dynamostore

import (
	"errors"
	"strconv"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// The actions of a booking transaction, in order.
const (
	actSlot = iota
	actPerson
	actBooking
	actCount
)

// kind is what a booking transaction's error means.
type kind int

const (
	// kindFault is any other error: the outcome may be unknown.
	kindFault kind = iota
	// kindCommitted: no error.
	kindCommitted
	// kindOwnWrite: the booking item exists with this transaction's
	// token: an earlier send of the same transaction committed.
	kindOwnWrite
	// kindSlotMoved: the slot holds another count than expected (another
	// process booked it); outcome.remaining has it.
	kindSlotMoved
	// kindSoldOut: the slot has no place left.
	kindSoldOut
	// kindNoSlot: the slot item does not exist.
	kindNoSlot
	// kindDuplicate: the person already holds a booking, or the booking
	// id is taken.
	kindDuplicate
	// kindConflict: another transaction was working on one of the items.
	kindConflict
	// kindThrottled: the engine refused for lack of capacity.
	kindThrottled
)

// outcome is a classified booking transaction error.
type outcome struct {
	kind kind
	// remaining is the slot's count, for kindSlotMoved.
	remaining int
	// retryAfter is the engine's suggested delay, for kindThrottled.
	retryAfter time.Duration
}

// throttleCodes are the error codes of the engine refusing for capacity.
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
}

// reasonThrottle are the cancellation reason codes of the same.
var reasonThrottle = map[string]bool{
	"ProvisionedThroughputExceeded": true,
	"ThrottlingError":               true,
	"RequestLimitExceeded":          true,
}

// Cancellation reason codes.
const (
	codeCondition = "ConditionalCheckFailed"
	codeConflict  = "TransactionConflict"
)

// classify returns what err, the error of the booking transaction sent
// with token tok, means.
func classify(err error, tok string) outcome {
	if err == nil {
		return outcome{kind: kindCommitted}
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return classifyCancel(tce.CancellationReasons, tok)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch code := api.ErrorCode(); {
		case throttleCodes[code]:
			return outcome{kind: kindThrottled, retryAfter: retryAfter(err)}
		case code == "TransactionConflictException":
			return outcome{kind: kindConflict}
		}
	}
	return outcome{kind: kindFault}
}

// classifyCancel maps the cancellation reasons of a booking transaction
// (slot, person, booking) to an outcome. An engine may report a condition
// failure of every action or only of the first that failed; the order of
// the checks makes both give the same answer: sold out before duplicate
// (as the SQLite store, which takes the place first), duplicate before a
// slot that merely moved.
func classifyCancel(reasons []types.CancellationReason, tok string) outcome {
	code := func(i int) string {
		if i < len(reasons) && reasons[i].Code != nil {
			return *reasons[i].Code
		}
		return ""
	}
	dup := code(actPerson) == codeCondition || code(actBooking) == codeCondition
	if code(actBooking) == codeCondition {
		if got, _ := getS(reasons[actBooking].Item, attrToken); got != "" && got == tok {
			return outcome{kind: kindOwnWrite}
		}
	}
	if code(actSlot) == codeCondition {
		it := reasons[actSlot].Item
		if len(it) == 0 {
			return outcome{kind: kindNoSlot}
		}
		r, ok := getN(it, attrRemaining)
		switch {
		case !ok:
			return outcome{kind: kindFault}
		case r <= 0:
			return outcome{kind: kindSoldOut}
		case dup:
			return outcome{kind: kindDuplicate}
		}
		return outcome{kind: kindSlotMoved, remaining: int(r)}
	}
	if dup {
		return outcome{kind: kindDuplicate}
	}
	for i := range reasons {
		if code(i) == codeConflict {
			return outcome{kind: kindConflict}
		}
	}
	for i := range reasons {
		if reasonThrottle[code(i)] {
			return outcome{kind: kindThrottled}
		}
	}
	return outcome{kind: kindFault}
}

// retryAfter returns the delay of the Retry-After header (whole seconds) of
// err's HTTP response, or 0: DynamoDB sends none today.
func retryAfter(err error) time.Duration {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	s, perr := strconv.Atoi(re.Response.Header.Get("Retry-After"))
	if perr != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}
