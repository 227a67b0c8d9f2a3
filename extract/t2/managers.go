package t2

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/transform"
)

// Personal managers: GET /managers, the reference of which customer (by
// phone number) belongs to which manager and whether the customer is VIP.

// ManagerRow is one row of `t2_managers`: one customer of one manager, or
// a manager without customers (customer columns NULL or empty).
type ManagerRow struct {
	ManagerID          int64
	ManagerName        string
	EmployeeID         sql.Null[int64]
	CompanyID          sql.Null[int64]
	HandleAllCustomers sql.Null[bool]
	CustomerID         sql.Null[int64]
	RealNumber         string // realNumber as sent
	CustomerNumber     string // realNumber as E.164 digits: the join key to calls.caller / calls.callee
	CompanyName        string
	CustomerName       string
	Info               string
	IsVip              sql.Null[bool]
	ManagerExtras      string
	CustomerExtras     string
	Raw                string // the customer element as sent; the manager element when it has none
	RunID              string
	SnapshotAt         time.Time
}

// CustomerReject is a customer element of a valid manager that failed
// validation: it goes to rejects with its own bytes.
type CustomerReject struct {
	Raw    []byte
	Reason string
}

// object decodes raw as a JSON object (not null).
func object(raw []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, errNotObject
	}
	return obj, nil
}

// scalars reads the known scalar fields of obj as text (see fields) and
// removes them, with the names in skip, from the rest, which it returns as
// the extras JSON object ("" when none).
func scalars(obj map[string]json.RawMessage, known map[string]*string, alias map[string]string, skip ...string) (string, error) {
	unknown := map[string]json.RawMessage{}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		name := k
		if a, ok := alias[k]; ok {
			name = a
		}
		if slices.Contains(skip, name) {
			continue
		}
		dst, ok := known[name]
		if !ok {
			unknown[k] = obj[k]
			continue
		}
		s, err := text(obj[k])
		if err != nil {
			return "", fmt.Errorf("%s: %w", k, err)
		}
		if *dst == "" {
			*dst = s
		}
	}
	if len(unknown) == 0 {
		return "", nil
	}
	b, _ := json.Marshal(unknown)
	return string(b), nil
}

// boolField reads a JSON boolean; absent or null is NULL, anything else
// (a string "true", a number) an error.
func boolField(obj map[string]json.RawMessage, name string, aliases ...string) (sql.Null[bool], error) {
	for _, k := range append([]string{name}, aliases...) {
		v, ok := obj[k]
		if !ok {
			continue
		}
		switch string(bytes.TrimSpace(v)) {
		case "null":
			return sql.Null[bool]{}, nil
		case "true":
			return sql.Null[bool]{V: true, Valid: true}, nil
		case "false":
			return sql.Null[bool]{V: false, Valid: true}, nil
		}
		return sql.Null[bool]{}, fmt.Errorf("%s %s is not true or false", k, head(v))
	}
	return sql.Null[bool]{}, nil
}

// int64Field parses an optional integer ("" is NULL).
func int64Field(name, s string) (sql.Null[int64], error) {
	if s == "" {
		return sql.Null[int64]{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return sql.Null[int64]{}, fmt.Errorf("%s %q is not an integer", name, s)
	}
	return sql.Null[int64]{V: v, Valid: true}, nil
}

// DecodeManager validates one element of GET /managers and returns its
// rows: one per valid customer (a customer listed twice, by id, once), or
// one without customer when its customers list is empty, null or absent; a
// manager whose customers are all rejected has no row. An error rejects the whole element: not an object, id
// missing or not an integer, employeeId or companyId not an integer,
// handleAllCustomers not a boolean, customers not an array. A customer
// that fails (not an object, id not an integer, isVip — or isVIP, the
// object table's spelling — not a boolean, realNumber missing or not a
// phone number, such as the document's placeholder "string") is returned
// in rejects with its own bytes and the manager's other customers kept.
// Rows carry neither RunID nor SnapshotAt.
func DecodeManager(raw []byte) (rows []ManagerRow, rejects []CustomerReject, err error) {
	obj, err := object(raw)
	if err != nil {
		return nil, nil, err
	}
	var id, emp, company string
	var m ManagerRow
	m.ManagerExtras, err = scalars(obj, map[string]*string{"id": &id, "employeeId": &emp, "companyId": &company, "name": &m.ManagerName},
		nil, "customers", "handleAllCustomers")
	if err != nil {
		return nil, nil, err
	}
	if id == "" {
		return nil, nil, errors.New("id is missing")
	}
	mid, err := int64Field("id", id)
	if err != nil {
		return nil, nil, err
	}
	m.ManagerID = mid.V
	if m.EmployeeID, err = int64Field("employeeId", emp); err != nil {
		return nil, nil, err
	}
	if m.CompanyID, err = int64Field("companyId", company); err != nil {
		return nil, nil, err
	}
	if m.HandleAllCustomers, err = boolField(obj, "handleAllCustomers"); err != nil {
		return nil, nil, err
	}
	var customers []json.RawMessage
	if v, ok := obj["customers"]; ok {
		if err := json.Unmarshal(v, &customers); err != nil {
			return nil, nil, fmt.Errorf("customers is not an array: %s", head(v))
		}
	}
	seen := map[string]bool{}
	for _, c := range customers {
		row, err := decodeCustomer(m, c)
		if err != nil {
			rejects = append(rejects, CustomerReject{Raw: c, Reason: fmt.Sprintf("manager %d customer: %v", m.ManagerID, err)})
			continue
		}
		key := row.CustomerNumber
		if row.CustomerID.Valid {
			key = strconv.FormatInt(row.CustomerID.V, 10)
		}
		if seen[key] {
			continue // the same customer twice in one manager
		}
		seen[key] = true
		rows = append(rows, row)
	}
	if len(customers) == 0 {
		m.Raw = string(raw)
		rows = append(rows, m)
	}
	return rows, rejects, nil
}

// decodeCustomer validates one customer of manager m and returns m's row
// for it.
func decodeCustomer(m ManagerRow, raw json.RawMessage) (ManagerRow, error) {
	obj, err := object(raw)
	if err != nil {
		return m, err
	}
	var id string
	m.CustomerExtras, err = scalars(obj, map[string]*string{"id": &id, "realNumber": &m.RealNumber,
		"companyName": &m.CompanyName, "name": &m.CustomerName, "info": &m.Info}, map[string]string{"isVIP": "isVip"}, "isVip")
	if err != nil {
		return m, err
	}
	if m.CustomerID, err = int64Field("id", id); err != nil {
		return m, err
	}
	if m.IsVip, err = boolField(obj, "isVip", "isVIP"); err != nil {
		return m, err
	}
	if m.RealNumber == "" {
		return m, errors.New("realNumber is missing")
	}
	if m.CustomerNumber = transform.Phone(m.RealNumber); m.CustomerNumber == "" {
		return m, fmt.Errorf("realNumber %q is not a phone number", m.RealNumber)
	}
	m.Raw = string(raw)
	return m, nil
}

// ManagersTable is `t2_managers`, a snapshot of GET /managers per run day.
var ManagersTable = &load.Table[ManagerRow]{
	Name: "t2_managers",
	Doc: "T2 personal managers and their customers (GET /managers), snapshot per run day; one row per (manager, customer), " +
		"or one per manager without customers. Join calls on customer_number",
	Schema: arrow.NewSchema([]arrow.Field{
		load.Required("manager_id", arrow.PrimitiveTypes.Int64), load.String("manager_name"),
		load.Nullable("employee_id", arrow.PrimitiveTypes.Int64), load.Nullable("company_id", arrow.PrimitiveTypes.Int64),
		load.Nullable("handle_all_customers", arrow.FixedWidthTypes.Boolean),
		load.Nullable("customer_id", arrow.PrimitiveTypes.Int64), load.String("real_number"), load.String("customer_number"),
		load.String("company_name"), load.String("customer_name"), load.String("info"),
		load.Nullable("is_vip", arrow.FixedWidthTypes.Boolean),
		load.String("manager_extras"), load.String("customer_extras"), load.String("raw"), load.String("run_id"), ts("snapshot_at"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *ManagerRow) {
		b.Field(0).(*array.Int64Builder).Append(r.ManagerID)
		load.AppendString(b.Field(1), r.ManagerName)
		load.AppendNull(b.Field(2), r.EmployeeID)
		load.AppendNull(b.Field(3), r.CompanyID)
		load.AppendNull(b.Field(4), r.HandleAllCustomers)
		load.AppendNull(b.Field(5), r.CustomerID)
		load.AppendString(b.Field(6), r.RealNumber)
		load.AppendString(b.Field(7), r.CustomerNumber)
		load.AppendString(b.Field(8), r.CompanyName)
		load.AppendString(b.Field(9), r.CustomerName)
		load.AppendString(b.Field(10), r.Info)
		load.AppendNull(b.Field(11), r.IsVip)
		load.AppendString(b.Field(12), r.ManagerExtras)
		load.AppendString(b.Field(13), r.CustomerExtras)
		load.AppendString(b.Field(14), r.Raw)
		load.AppendString(b.Field(15), r.RunID)
		load.AppendTimestamp(b.Field(16), r.SnapshotAt)
	},
	Dictionary: []string{"manager_name", "company_name", "run_id"},
	Comments: map[string]string{
		"source":               "Hive partition: t2.",
		"date":                 "Hive partition: the run's day in the business time zone (one snapshot per run day).",
		"manager_id":           "id of the manager",
		"manager_name":         "name of the manager",
		"employee_id":          "employeeId: the manager's PBX employee (t2_employees.employee_id)",
		"company_id":           "companyId",
		"handle_all_customers": "handleAllCustomers: the manager takes calls from every customer",
		"customer_id":          "id of the customer; NULL on the row of a manager without customers",
		"real_number":          "realNumber as sent",
		"customer_number":      "realNumber as E.164 digits: join calls.caller (incoming, missed) or calls.callee (outgoing) on it; '' on a manager without customers",
		"company_name":         "companyName: the customer's company",
		"customer_name":        "name: the customer's contact person (ФИО), when sent",
		"info":                 "info about the customer, when sent",
		"is_vip":               "isVip (isVIP in the object table): the customer is VIP; NULL when not sent",
		"manager_extras":       "fields of the manager the API sent that this version does not know, as a JSON object ('' when none)",
		"customer_extras":      "fields of the customer the API sent that this version does not know (e.g. clientId), as a JSON object ('' when none)",
		"raw":                  "the customer element as sent; the manager element on a manager without customers",
		"run_id":               "run that took the snapshot",
		"snapshot_at":          "when the snapshot was taken, UTC",
	},
}
