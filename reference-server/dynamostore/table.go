package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// tableWait bounds how long Open and Drop wait for a table to become ACTIVE
// or to disappear (AWS takes seconds to a minute or so).
const tableWait = 5 * time.Minute

// ensureTable creates table when absent and waits until it is ACTIVE. A
// ResourceInUseException from CreateTable means that another process is
// creating it: it waits too. It returns store.ErrMismatch when the table
// exists with another key schema.
func ensureTable(ctx context.Context, db *dynamodb.Client, c Config, table string) error {
	billing, throughput, err := c.capacity()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, tableWait)
	defer cancel()
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			if err := createTable(ctx, db, table, billing, throughput); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("describe table %s: %w", table, err)
		case out.Table.TableStatus == types.TableStatusActive:
			return checkKeySchema(table, out.Table.KeySchema, out.Table.AttributeDefinitions)
		case out.Table.TableStatus == types.TableStatusCreating, out.Table.TableStatus == types.TableStatusUpdating,
			out.Table.TableStatus == types.TableStatusDeleting: // wait, then (re)create
		default:
			return fmt.Errorf("table %s is %s", table, out.Table.TableStatus)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("wait for table %s: %w", table, ctx.Err())
		}
	}
}

// createTable creates table; another process creating it at once is not an
// error.
func createTable(ctx context.Context, db *dynamodb.Client, table string, billing types.BillingMode, throughput *types.ProvisionedThroughput) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		BillingMode:           billing,
		ProvisionedThroughput: throughput,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}

// checkKeySchema returns store.ErrMismatch unless the table's key is
// (pk string HASH, sk string RANGE).
func checkKeySchema(table string, ks []types.KeySchemaElement, defs []types.AttributeDefinition) error {
	attrTypes := map[string]types.ScalarAttributeType{}
	for _, d := range defs {
		attrTypes[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	ok := len(ks) == 2
	for _, k := range ks {
		name := aws.ToString(k.AttributeName)
		want := map[string]string{attrPK: "HASH", attrSK: "RANGE"}[name]
		ok = ok && string(k.KeyType) == want && attrTypes[name] == types.ScalarAttributeTypeS
	}
	if !ok {
		return fmt.Errorf("table %s exists with another key schema than (pk string HASH, sk string RANGE); "+
			"use another table prefix or delete it: %w", table, store.ErrMismatch)
	}
	return nil
}

// Drop deletes the table of design d's scheme and waits until it is gone,
// so that the next Open starts it afresh. A missing table is not an error.
func Drop(ctx context.Context, cfg Config, d models.Design) error {
	cfg = cfg.withDefaults()
	if errs := cfg.Validate(); len(errs) > 0 {
		return fmt.Errorf("drop dynamodb table: %w", errors.Join(errs...))
	}
	cl, err := newClients(ctx, cfg)
	if err != nil {
		return err
	}
	defer cl.transport.CloseIdleConnections()
	if err := ping(ctx, cfg, cl.strict); err != nil {
		return err
	}
	return dropTable(ctx, cl.patient, cfg.table(d.Scheme))
}

// dropTable deletes table and waits until DescribeTable no longer finds it.
func dropTable(ctx context.Context, db *dynamodb.Client, table string) error {
	ctx, cancel := context.WithTimeout(ctx, tableWait)
	defer cancel()
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		var nf *types.ResourceNotFoundException
		var inUse *types.ResourceInUseException // being created or deleted: wait
		switch {
		case errors.As(err, &nf):
			return nil
		case err != nil && !errors.As(err, &inUse):
			return fmt.Errorf("delete table %s: %w", table, err)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("wait for table %s to go: %w", table, ctx.Err())
		}
	}
}
