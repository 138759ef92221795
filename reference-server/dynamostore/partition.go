package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Bounds of a booking's retries.
const (
	// bookTimeout bounds a booking once sent, whatever its context.
	bookTimeout = 30 * time.Second
	// resolveTimeout bounds the read of a booking whose outcome is unknown.
	resolveTimeout = 5 * time.Second
	// maxConflicts bounds the retries after TransactionConflict.
	maxConflicts = 6
	// conflictBackoff is the first retry's backoff ceiling, doubled at
	// each retry (full jitter).
	conflictBackoff = 10 * time.Millisecond
	// maxMoves bounds the retries after another process booked the slot.
	maxMoves = 16
)

// Partition is one partition of the design: its items in the store's
// table under pk "P#<key>". It is safe for concurrent use. Its meter counts
// a batch and an attempt per TransactWriteItems call (SDK retries
// included), and Busy sums their durations, which overlap: bookings of
// different slots run at once.
type Partition struct {
	store.Meter

	st    *Store
	api   bookAPI // st's strict client; tests replace it
	key   models.PartitionKey
	pk    string
	slots map[models.SlotKey]*slot // read-only after newPartition

}

// bookAPI is what a booking needs of a DynamoDB client.
type bookAPI interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// slot is one slot of a partition and its turn: within the process, one
// booking of the slot at a time sends its transaction.
type slot struct {
	sk   string
	turn chan struct{} // capacity 1: holding it is having the turn
	// expect is the slot's count as last seen: the places left after the
	// last booking of this process, or what the table answered. Guarded by
	// turn.
	expect int
}

func newPartition(s *Store, p models.Partition) *Partition {
	pt := &Partition{
		st: s, key: p.Key, api: s.db.strict, pk: partitionPK(p.Key), slots: make(map[models.SlotKey]*slot, len(p.Slots)),
	}
	for _, sl := range p.Slots {
		// A first guess: exact on a fresh table, corrected by the first
		// booking's condition failure otherwise.
		pt.slots[sl.Key()] = &slot{sk: slotSK(sl.PPV, sl.Date.String()), turn: make(chan struct{}, 1), expect: sl.Capacity}
	}
	return pt
}

// Key returns the partition's key.
func (p *Partition) Key() models.PartitionKey { return p.key }

// Book stores rec in one transaction if its slot has a place left and its
// person holds no booking in the store, and returns the places left in the
// slot afterwards. See store.Partition.Book and the package doc. It returns
// store.ErrNoSlot, store.ErrSoldOut, store.ErrDuplicate, store.ErrClosed, a
// *store.ThrottledError (store.ErrThrottled), ctx's error when ctx ends
// while the booking waits for its slot's turn, or a storage fault.
func (p *Partition) Book(ctx context.Context, rec store.Record) (int, error) {
	sl, ok := p.slots[models.SlotKey{PPV: rec.PPV, Date: rec.Date}]
	if !ok {
		return 0, fmt.Errorf("book %s/%s in %s: %w", rec.PPV, rec.Date, p.key, store.ErrNoSlot)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !p.st.enter() {
		return 0, store.ErrClosed
	}
	defer p.st.inflight.Done()
	select {
	case sl.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-sl.turn }()
	// Taken up: from here on the caller learns the outcome whatever ctx does.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookTimeout)
	defer cancel()
	remaining, err := p.take(wctx, sl, rec)
	p.Count(err)
	return remaining, err
}

// take runs rec's transaction until it has an answer, holding sl's turn.
func (p *Partition) take(ctx context.Context, sl *slot, rec store.Record) (int, error) {
	nonce := rand.Uint64()
	conflicts, moves := 0, 0
	for attempt := 0; ; attempt++ {
		if sl.expect <= 0 { // counts only go down: sold out for good
			return 0, fmt.Errorf("book %s/%s: %w", rec.PPV, rec.Date, store.ErrSoldOut)
		}
		expect := sl.expect
		tok := requestToken(p.st.table, rec.ID, nonce, attempt)
		err := p.transact(ctx, p.bookInput(sl, rec, expect, tok))
		o := classify(err, tok)
		switch o.kind {
		case kindCommitted, kindOwnWrite:
			sl.expect = expect - 1
			return expect - 1, nil
		case kindSlotMoved:
			sl.expect = o.remaining
			moves++
			if moves > maxMoves {
				return 0, fmt.Errorf("book %s/%s: slot contended by other processes: %w", rec.PPV, rec.Date,
					&store.ThrottledError{RetryAfter: conflictBackoff, Err: err})
			}
		case kindSoldOut:
			sl.expect = 0
			return 0, fmt.Errorf("book %s/%s: %w", rec.PPV, rec.Date, store.ErrSoldOut)
		case kindNoSlot:
			return 0, fmt.Errorf("book %s/%s: no slot item in %s: %w", rec.PPV, rec.Date, p.key, store.ErrNoSlot)
		case kindDuplicate:
			return 0, fmt.Errorf("book %s for person %q: %w", rec.ID, rec.PersonID, store.ErrDuplicate)
		case kindConflict:
			ceiling := conflictBackoff << conflicts
			conflicts++
			if conflicts > maxConflicts {
				return 0, fmt.Errorf("book %s: %w", rec.ID, &store.ThrottledError{RetryAfter: ceiling, Err: err})
			}
			if err := store.Sleep(ctx, rand.N(ceiling)+time.Millisecond); err != nil {
				return 0, fmt.Errorf("book %s: %w", rec.ID, err)
			}
		case kindThrottled:
			return 0, fmt.Errorf("book %s: %w", rec.ID, &store.ThrottledError{RetryAfter: o.retryAfter, Err: err})
		default:
			return p.resolve(ctx, sl, rec, expect, tok, err)
		}
	}
}

// resolve learns the outcome of a transaction that ended in a fault (the
// engine unreachable, a timeout): it reads the booking item back and
// reports a booking it finds with token tok as made.
func (p *Partition) resolve(ctx context.Context, sl *slot, rec store.Record, expect int, tok string, cause error) (int, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveTimeout) // ctx may be what ended
	defer cancel()
	out, err := p.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(p.st.table), Key: itemKey(p.pk, bookingSK(rec.ID)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("partition %s: book %s: %w (outcome unknown: reading it back failed: %w)", p.key, rec.ID, cause, err)
	}
	if got, _ := getS(out.Item, attrToken); got != "" && got == tok {
		sl.expect = expect - 1
		return expect - 1, nil
	}
	return 0, fmt.Errorf("partition %s: book %s: %w", p.key, rec.ID, cause)
}

// requestToken returns the ClientRequestToken of a booking transaction: 32
// hex digits of a hash of the table, the booking id, the Book call's nonce
// and the attempt. The SDK's retries of one call send the same token, so
// DynamoDB applies the call once; each call and each attempt has its own.
func requestToken(table, id string, nonce uint64, attempt int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%x\x00%d", table, id, nonce, attempt)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// bookInput returns the transaction booking rec in sl when the slot holds
// expect places.
func (p *Partition) bookInput(sl *slot, rec store.Record, expect int, tok string) *dynamodb.TransactWriteItemsInput {
	table := aws.String(p.st.table)
	notExists := aws.String("attribute_not_exists(pk)")
	person := recordItem(rec, personPK(rec.PersonID), skPerson)
	person[attrPart] = str(string(p.key))
	booking := recordItem(rec, p.pk, bookingSK(rec.ID))
	booking[attrToken] = str(tok)
	return &dynamodb.TransactWriteItemsInput{
		ClientRequestToken: aws.String(tok),
		TransactItems: []types.TransactWriteItem{
			actSlot: {Update: &types.Update{
				TableName:                table,
				Key:                      itemKey(p.pk, sl.sk),
				UpdateExpression:         aws.String("SET #r = #r - :one"),
				ConditionExpression:      aws.String("#r = :expect"),
				ExpressionAttributeNames: map[string]string{"#r": attrRemaining},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":one": num(1), ":expect": num(int64(expect)),
				},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			actPerson: {Put: &types.Put{TableName: table, Item: person, ConditionExpression: notExists}},
			actBooking: {Put: &types.Put{TableName: table, Item: booking, ConditionExpression: notExists,
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		},
	}
}

// transact sends one booking transaction and measures it.
func (p *Partition) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) error {
	start := time.Now()
	_, err := p.api.TransactWriteItems(ctx, in)
	d := time.Since(start)
	p.Batch(d)
	p.Attempts(1)
	p.Busy(d)
	return err
}
