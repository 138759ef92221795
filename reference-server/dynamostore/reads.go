package dynamostore

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Open ends of a Slots date range, as sort key bounds.
const (
	lowestDate  = "0000-00-00"
	highestDate = "9999-99-99"
)

// Slots returns the state of the partition's slots of ppv whose date is
// within [from, to] (a zero end is open), ordered by date, read
// consistently. A throttled read returns a *store.ThrottledError.
func (p *Partition) Slots(ctx context.Context, ppv string, from, to models.Date) ([]store.SlotState, error) {
	if p.st.isClosed() {
		return nil, store.ErrClosed
	}
	lo, hi := lowestDate, highestDate
	if !from.IsZero() {
		lo = from.String()
	}
	if !to.IsZero() {
		hi = to.String()
	}
	var out []store.SlotState
	err := p.query(ctx, p.st.db.strict, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(p.pk), ":lo": str(slotSK(ppv, lo)), ":hi": str(slotSK(ppv, hi)),
		},
	}, func(it map[string]types.AttributeValue) error {
		s, err := decodeSlot(it)
		if err != nil {
			return err
		}
		if s.PPV == ppv { // a PPV id with '#' could fall in another's range
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, readErr(fmt.Sprintf("partition %s: read slots of %s", p.key, ppv), err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out, nil
}

// Booking returns the booking with the given id, read consistently, or
// store.ErrNotFound.
func (p *Partition) Booking(ctx context.Context, id string) (store.Record, error) {
	if p.st.isClosed() {
		return store.Record{}, store.ErrClosed
	}
	out, err := p.st.db.strict.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(p.st.table), Key: itemKey(p.pk, bookingSK(id)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Record{}, readErr(fmt.Sprintf("partition %s: read booking %q", p.key, id), err)
	}
	if len(out.Item) == 0 {
		return store.Record{}, fmt.Errorf("booking %q in %s: %w", id, p.key, store.ErrNotFound)
	}
	return decodeRecord(out.Item)
}

// Scan calls fn for every booking of the partition, in booking id order,
// read consistently page by page, stopping at the first error.
func (p *Partition) Scan(ctx context.Context, fn func(store.Record) error) error {
	if p.st.isClosed() {
		return store.ErrClosed
	}
	var fnErr error
	err := p.query(ctx, p.st.db.patient, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :b)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(p.pk), ":b": str(bookingSK("")),
		},
	}, func(it map[string]types.AttributeValue) error {
		rec, err := decodeRecord(it)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return fmt.Errorf("partition %s: scan: %w", p.key, err)
	}
	return nil
}

// Audit returns, for every slot of the partition (ordered by PPV and date),
// its seeded capacity, its remaining counter and the number of booking items
// stored for it, from one consistent Query of the partition's items. The
// pages of a large partition are read one after the other, not as one
// snapshot: audit a partition nothing books in.
func (p *Partition) Audit(ctx context.Context) ([]store.SlotAudit, error) {
	if p.st.isClosed() {
		return nil, store.ErrClosed
	}
	slots := map[models.SlotKey]*store.SlotAudit{}
	get := func(k models.SlotKey) *store.SlotAudit {
		a := slots[k]
		if a == nil { // bookings of a slot the partition does not hold: all oversold
			a = &store.SlotAudit{Slot: k}
			slots[k] = a
		}
		return a
	}
	err := p.query(ctx, p.st.db.patient, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ProjectionExpression:      aws.String("#sk, #ppv, #date, #cap, #rem"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK, "#ppv": attrPPV, "#date": attrDate, "#cap": attrCapacity, "#rem": attrRemaining},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(p.pk)},
	}, func(it map[string]types.AttributeValue) error {
		sk, _ := getS(it, attrSK)
		ppv, _ := getS(it, attrPPV)
		date, _ := getS(it, attrDate)
		d, err := models.ParseDate(date)
		if err != nil {
			return fmt.Errorf("item %s: %w", sk, err)
		}
		a := get(models.SlotKey{PPV: ppv, Date: d})
		switch sk[:min(2, len(sk))] {
		case "S#":
			c, ok1 := getN(it, attrCapacity)
			r, ok2 := getN(it, attrRemaining)
			if !ok1 || !ok2 {
				return fmt.Errorf("malformed slot item %s", sk)
			}
			a.Capacity, a.Remaining = int(c), int(r)
		case "B#":
			a.Booked++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
	}
	out := make([]store.SlotAudit, 0, len(slots))
	for _, a := range slots {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Slot.PPV != out[j].Slot.PPV {
			return out[i].Slot.PPV < out[j].Slot.PPV
		}
		return out[i].Slot.Date.Before(out[j].Slot.Date)
	})
	return out, nil
}

// query runs in (its table and consistency set here) with db, page by
// page, calling fn for every item until fn fails.
func (p *Partition) query(ctx context.Context, db *dynamodb.Client, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	in.TableName = aws.String(p.st.table)
	in.ConsistentRead = aws.Bool(true)
	pages := dynamodb.NewQueryPaginator(db, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
	}
	return nil
}
