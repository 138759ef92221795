package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// metaFormat is the version of the layout the meta item describes.
const metaFormat = 1

// seedConcurrency bounds the slot puts Open sends at once.
const seedConcurrency = 16

// meta is what the meta item records about a table.
type meta struct {
	Format     int64
	Scheme     string
	Design     string
	Inventory  string // InventoryHash
	Slots      int64
	Capacity   int64
	Partitions int64
	Seeded     bool
	CreatedAt  string
}

func (m *meta) item() map[string]types.AttributeValue {
	it := itemKey(pkMeta, skMeta)
	for k, v := range map[string]string{"scheme": m.Scheme, "design": m.Design, "inventory": m.Inventory, "created_at": m.CreatedAt} {
		it[k] = str(v)
	}
	for k, v := range map[string]int64{"format": m.Format, "slots": m.Slots, "capacity": m.Capacity, "partitions": m.Partitions} {
		it[k] = num(v)
	}
	it["seeded"] = &types.AttributeValueMemberBOOL{Value: m.Seeded}
	return it
}

func decodeMeta(it map[string]types.AttributeValue) meta {
	var m meta
	m.Format, _ = getN(it, "format")
	m.Scheme, _ = getS(it, "scheme")
	m.Design, _ = getS(it, "design")
	m.Inventory, _ = getS(it, "inventory")
	m.Slots, _ = getN(it, "slots")
	m.Capacity, _ = getN(it, "capacity")
	m.Partitions, _ = getN(it, "partitions")
	m.CreatedAt, _ = getS(it, "created_at")
	if b, ok := it["seeded"].(*types.AttributeValueMemberBOOL); ok {
		m.Seeded = b.Value
	}
	return m
}

// newMeta returns the meta item of design d over inv.
func newMeta(d models.Design, inv *models.Inventory, parts int) meta {
	return meta{
		Format: metaFormat, Scheme: string(d.Scheme), Design: d.Name, Inventory: InventoryHash(inv),
		Slots: int64(len(inv.Slots)), Capacity: int64(inv.TotalCapacity()), Partitions: int64(parts),
		CreatedAt: time.Now().UTC().Format(time.RFC3339),
	}
}

// InventoryHash returns the SHA-256 (hex) of the slot inventory of inv: every
// slot's PPV, day and capacity, in a canonical order (the same hash as the
// SQLite store's manifest).
func InventoryHash(inv *models.Inventory) string {
	slots := append([]models.Slot(nil), inv.Slots...)
	sort.Slice(slots, func(i, j int) bool {
		if slots[i].PPV != slots[j].PPV {
			return slots[i].PPV < slots[j].PPV
		}
		return slots[i].Date.Before(slots[j].Date)
	})
	h := sha256.New()
	for _, s := range slots {
		fmt.Fprintf(h, "%q %s %d\n", s.PPV, s.Date, s.Capacity)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// claimMeta writes want as table's meta item unless the table has one, and
// reports whether the table's slots are all seeded. It returns
// store.ErrMismatch when the meta item names another scheme or inventory.
func claimMeta(ctx context.Context, db *dynamodb.Client, table string, want meta) (seeded bool, err error) {
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table), Item: want.item(),
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return false, nil
	case !errors.As(err, &ccf):
		return false, fmt.Errorf("write meta item of %s: %w", table, err)
	}
	it := ccf.Item
	if len(it) == 0 { // an engine that does not return ALL_OLD
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(table), Key: itemKey(pkMeta, skMeta), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return false, fmt.Errorf("read meta item of %s: %w", table, err)
		}
		it = out.Item
	}
	got := decodeMeta(it)
	if got.Format != metaFormat || got.Scheme != want.Scheme || got.Inventory != want.Inventory {
		return false, fmt.Errorf("table %s holds design %q (scheme %s, format %d, %d slots, inventory %.12s); "+
			"asked for design %q (scheme %s, %d slots, inventory %.12s); use another table prefix or drop the table: %w",
			table, got.Design, got.Scheme, got.Format, got.Slots, got.Inventory,
			want.Design, want.Scheme, want.Slots, want.Inventory, store.ErrMismatch)
	}
	return got.Seeded, nil
}

// seed puts the slot items of parts that do not exist yet (each put is
// conditional, so concurrent openers seed a slot once), then marks the meta
// item seeded.
func seed(ctx context.Context, db *dynamodb.Client, table string, parts []models.Partition) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, seedConcurrency)
	var wg sync.WaitGroup
slots:
	for _, p := range parts {
		for _, s := range p.Slots {
			if ctx.Err() != nil {
				break slots
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := seedSlot(ctx, db, table, p.Key, s); err != nil {
					cancel(err) // the first error stays the cause
				}
			})
		}
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: itemKey(pkMeta, skMeta),
		UpdateExpression:          aws.String("SET #seeded = :t"),
		ExpressionAttributeNames:  map[string]string{"#seeded": "seeded"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
	})
	if err != nil {
		return fmt.Errorf("mark %s seeded: %w", table, err)
	}
	return nil
}

// seedSlot puts slot s of partition k with all its places, unless it exists.
func seedSlot(ctx context.Context, db *dynamodb.Client, table string, k models.PartitionKey, s models.Slot) error {
	date := s.Date.String()
	it := itemKey(partitionPK(k), slotSK(s.PPV, date))
	it[attrPPV], it[attrDate] = str(s.PPV), str(date)
	it[attrCapacity], it[attrRemaining] = num(int64(s.Capacity)), num(int64(s.Capacity))
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table), Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("seed slot %s/%s: %w", s.PPV, date, err)
	}
	return nil
}
