package dynamostore

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Key prefixes and the attribute names of the items (see the package doc).
const (
	pkMeta   = "M#meta"
	skMeta   = "M"
	skPerson = "U"

	attrPK        = "pk"
	attrSK        = "sk"
	attrPPV       = "ppv"
	attrDate      = "date"
	attrCapacity  = "capacity"
	attrRemaining = "remaining"
	attrID        = "id"
	attrPerson    = "person"
	attrPart      = "part"
	attrCreated   = "created"
	attrIdem      = "idem"
	attrToken     = "tok"
)

// partitionPK is the pk of partition k's slots and bookings.
func partitionPK(k models.PartitionKey) string { return "P#" + string(k) }

// slotSK is the sk of a slot item.
func slotSK(ppv string, date string) string { return "S#" + ppv + "#" + date }

// bookingSK is the sk of a booking item.
func bookingSK(id string) string { return "B#" + id }

// personPK is the pk of a person item.
func personPK(person string) string { return "U#" + person }

// str and num build attribute values.
func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// itemKey returns the key of the item (pk, sk).
func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

// getS returns the string attribute k of item.
func getS(item map[string]types.AttributeValue, k string) (string, bool) {
	v, ok := item[k].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

// getN returns the integer attribute k of item.
func getN(item map[string]types.AttributeValue, k string) (int64, bool) {
	v, ok := item[k].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return n, err == nil
}

// recordItem returns the attributes rec's booking and person items share.
func recordItem(rec store.Record, pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str(pk), attrSK: str(sk),
		attrID: str(rec.ID), attrPerson: str(rec.PersonID),
		attrPPV: str(rec.PPV), attrDate: str(rec.Date.String()),
		attrCreated: num(rec.CreatedAt.UnixNano()), attrIdem: str(rec.IdempotencyKey),
	}
}

// decodeRecord reads a booking or person item.
func decodeRecord(item map[string]types.AttributeValue) (store.Record, error) {
	var rec store.Record
	var ok [6]bool
	var date string
	var created int64
	rec.ID, ok[0] = getS(item, attrID)
	rec.PersonID, ok[1] = getS(item, attrPerson)
	rec.PPV, ok[2] = getS(item, attrPPV)
	date, ok[3] = getS(item, attrDate)
	created, ok[4] = getN(item, attrCreated)
	rec.IdempotencyKey, ok[5] = getS(item, attrIdem)
	for _, b := range ok {
		if !b {
			return store.Record{}, fmt.Errorf("malformed booking item %v", item)
		}
	}
	d, err := models.ParseDate(date)
	if err != nil {
		return store.Record{}, fmt.Errorf("booking %q: %w", rec.ID, err)
	}
	rec.Date = d
	rec.CreatedAt = time.Unix(0, created).UTC()
	return rec, nil
}

// decodeSlot reads a slot item.
func decodeSlot(item map[string]types.AttributeValue) (store.SlotState, error) {
	ppv, ok1 := getS(item, attrPPV)
	date, ok2 := getS(item, attrDate)
	capacity, ok3 := getN(item, attrCapacity)
	remaining, ok4 := getN(item, attrRemaining)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return store.SlotState{}, fmt.Errorf("malformed slot item %v", item)
	}
	d, err := models.ParseDate(date)
	if err != nil {
		return store.SlotState{}, fmt.Errorf("slot %s: %w", ppv, err)
	}
	return store.SlotState{PPV: ppv, Date: d, Capacity: int(capacity), Remaining: int(remaining)}, nil
}
