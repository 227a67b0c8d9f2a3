package mobilgroup

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// Name is the source name in the lake and in state.
const Name = "mobilgroup"

// Kind is the pipeline's item kind: a Mobilgroup voice broadcast.
const Kind = "broadcast"

// Currency of every Mobilgroup price (the balance answer names its own).
const Currency = "RUB"

// Normalised subscriber (and transfer) statuses: the status column.
const (
	StatusAnswered    = "answered"    // Успешно
	StatusBusy        = "busy"        // Занято
	StatusNoAnswer    = "no_answer"   // Нет ответа
	StatusUnavailable = "unavailable" // Недоступен, Абонент недоступен
	StatusFailed      = "failed"      // Ошибка
	StatusRejected    = "rejected"    // Сброс, Отклонен
	StatusPending     = "pending"     // В очереди, Ожидает, В процессе, "" (not called yet)
	StatusUnknown     = "unknown"     // a text this version does not know (kept raw in status_text)
)

// Statuses lists the normalised statuses in the order of the
// mobilgroup_broadcasts count columns.
var Statuses = []string{StatusAnswered, StatusBusy, StatusNoAnswer, StatusUnavailable, StatusFailed,
	StatusRejected, StatusPending, StatusUnknown}

// Normalised SMS statuses: the sms_status column.
const (
	SMSDelivered   = "delivered"   // Доставлено
	SMSUndelivered = "undelivered" // Не доставлено
	SMSSent        = "sent"        // Отправлено
	SMSPending     = "pending"     // В очереди, Ожидает
	SMSUnknown     = "unknown"
)

var callStatuses = map[string]string{
	"успешно":             StatusAnswered,
	"успешный":            StatusAnswered,
	"отвечен":             StatusAnswered,
	"занято":              StatusBusy,
	"нет ответа":          StatusNoAnswer,
	"не отвечает":         StatusNoAnswer,
	"недоступен":          StatusUnavailable,
	"абонент недоступен":  StatusUnavailable,
	"не доступен":         StatusUnavailable,
	"ошибка":              StatusFailed,
	"сброс":               StatusRejected,
	"сброшен":             StatusRejected,
	"отклонен":            StatusRejected,
	"в очереди":           StatusPending,
	"ожидает":             StatusPending,
	"ожидание":            StatusPending,
	"в процессе":          StatusPending,
	"":                    StatusPending,
	"абонент не отвечает": StatusNoAnswer,
	"абонент занят":       StatusBusy,
	"вызов отклонен":      StatusRejected,
	"ожидает повторной попытки": StatusPending,
}

var smsStatuses = map[string]string{
	"доставлено":    SMSDelivered,
	"не доставлено": SMSUndelivered,
	"недоставлено":  SMSUndelivered,
	"отправлено":    SMSSent,
	"в очереди":     SMSPending,
	"ожидает":       SMSPending,
}

// fold is the key statuses are looked up by: lower case, ё as е, inner
// spaces collapsed, trailing dots dropped.
func fold(text string) string {
	s := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(text, "ё", "е"), "Ё", "Е"))
	return strings.TrimRight(strings.Join(strings.Fields(s), " "), ".")
}

// CallStatus normalises a subscriber's (or transfer's) Russian status
// text: "Успешно" → answered, "Занято" → busy, "Нет ответа" → no_answer,
// "Недоступен" → unavailable, "Ошибка" → failed, "Сброс"/"Отклонен" →
// rejected, "В очереди"/"Ожидает"/"" → pending, anything else → unknown.
// Case, ё/е, extra spaces and a trailing dot do not matter.
func CallStatus(text string) string {
	if s, ok := callStatuses[fold(text)]; ok {
		return s
	}
	return StatusUnknown
}

// FinalStatus reports whether a subscriber with this normalised status will
// not change any more: answered, busy, no_answer, unavailable, failed and
// rejected. pending is not final, and neither is unknown: a status text
// this version cannot read must not freeze a broadcast (a final broadcast
// is never fetched again).
func FinalStatus(status string) bool { return status != StatusPending && status != StatusUnknown }

// Redialable reports whether a subscriber with this normalised status may
// still be dialled again: every final status but answered. The document
// redials "при не ответе" (on no answer) without saying which results
// count, so busy, no_answer, unavailable, failed and rejected all may.
func Redialable(status string) bool { return FinalStatus(status) && status != StatusAnswered }

// SubscriberFinal reports whether subscriber r can no longer change, by
// the run's clock now: its status is an outcome, its SMS leg is not
// pending, and no redial can still come — it was answered, or it has used
// MaxAttempts attempts, or its date is at least window before now. A
// not-answered subscriber without a date, or a zero now, is not final.
func SubscriberFinal(r *CallRow, now time.Time, window time.Duration) bool {
	switch {
	case !FinalStatus(r.Status), r.SMSStatus.Valid && r.SMSStatus.V == SMSPending:
		return false
	case !Redialable(r.Status), r.Attempts.Valid && r.Attempts.V >= MaxAttempts:
		return true
	}
	return !r.CalledAt.IsZero() && !now.IsZero() && !now.Before(r.CalledAt.Add(window))
}

// SMSStatus normalises an SMS leg's status text: "Доставлено" → delivered,
// "Не доставлено" → undelivered, "Отправлено" → sent, "В очереди"/"Ожидает"
// → pending, anything else (including "") → unknown.
func SMSStatus(text string) string {
	if s, ok := smsStatuses[fold(text)]; ok {
		return s
	}
	return SMSUnknown
}

// Date layouts the decoder accepts, in the vendor's zone. The document only
// says "Дата"; the first is what the emulator serves.
var DateLayouts = []string{"2006-01-02 15:04:05", "02.01.2006 15:04:05", "2006-01-02 15:04"}

// ParseDate reads a vendor date in loc: YYYY-MM-DD HH:MM:SS, DD.MM.YYYY
// HH:MM:SS or YYYY-MM-DD HH:MM. "" (not called yet) is the zero time.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range DateLayouts {
		if len(s) != len(l) {
			continue
		}
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD HH:MM:SS, DD.MM.YYYY HH:MM:SS or YYYY-MM-DD HH:MM", s)
}

// ParseMoney reads a price, budget or balance with either decimal
// separator ("0,91", "3.41", "273,50", a JSON number) exactly, through
// transform.Money. Surrounding spaces are ignored; "" is NULL.
func ParseMoney(s string) (sql.Null[model.Money], error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return sql.Null[model.Money]{}, nil
	}
	m, err := transform.Money(s)
	if err != nil {
		return sql.Null[model.Money]{}, err
	}
	return sql.Null[model.Money]{V: m, Valid: true}, nil
}

// parseCount reads a non-negative integer; "" is NULL.
func parseCount(name, s string) (sql.Null[int32], error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return sql.Null[int32]{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		return sql.Null[int32]{}, fmt.Errorf("%s %q is not a non-negative integer", name, s)
	}
	return sql.Null[int32]{V: int32(v), Valid: true}, nil
}

func nullString(s string) sql.Null[string] { return sql.Null[string]{V: s, Valid: true} }

// MapContext is what the mapping functions need besides the subscriber.
type MapContext struct {
	Vendor      *time.Location // zone of the vendor's dates
	Business    *time.Location // zone of the date partition
	Account     string         // Config.Account
	RunID       string
	ExtractedAt time.Time
	// Now is the run's clock (model.Run.StartedAt) and RedialWindow
	// Config.RedialWindow: together they decide SubscriberFinal.
	Now          time.Time
	RedialWindow time.Duration
}

// CallRow is one row of `mobilgroup_calls`: one subscriber of a broadcast.
type CallRow struct {
	Date string // partition: the call's day in the business zone, else the broadcast's day

	BroadcastID       string
	Seq               int32
	Phone             string
	PhoneRaw          string
	CalledAt          time.Time // zero (NULL) when not called yet
	StatusText        string
	Status            string
	Final             bool
	Attempts          sql.Null[int32]
	DurationS         sql.Null[int32]
	Price             sql.Null[model.Money]
	TransferNumber    sql.Null[string]
	TransferNumberRaw sql.Null[string]
	TransferDurationS sql.Null[int32]
	TransferPrice     sql.Null[model.Money]
	TransferStatusTxt sql.Null[string]
	TransferStatus    sql.Null[string]
	SMSDate           time.Time
	SMSMessage        sql.Null[string]
	SMSParts          sql.Null[int32]
	SMSPrice          sql.Null[model.Money]
	SMSStatusText     sql.Null[string]
	SMSStatus         sql.Null[string]
	Extras            string
	RunID             string
	ExtractedAt       time.Time
}

// LegsPrice is the transfer and SMS prices together (0 when neither).
func (r *CallRow) LegsPrice() model.Money { return r.TransferPrice.V + r.SMSPrice.V }

// errSubscriber prefixes err with the subscriber's position.
func errSubscriber(seq int, err error) error { return fmt.Errorf("subscriber %d: %w", seq, err) }

// Map turns subscriber sub of broadcast id into its mobilgroup_calls row and,
// when the subscriber has a date (was called), its canonical calls row (nil
// otherwise). The row's Date is "" when there is no date: the caller sets
// the broadcast's day. A subscriber that cannot be read, without a usable
// phone number, or with a malformed date, integer or money value is an
// error (the subscriber goes to rejects).
//
// Cost of the canonical row is the subscriber's price, which the document
// calls the total cost of the call: it already includes the transfer and
// SMS legs (its state example: budget 3.41 = 0.91 + 2.50, the second
// subscriber's price 2.50 being its SMS's 2.50), so the legs are not added.
func Map(mc *MapContext, id string, sub *Subscriber) (CallRow, *model.Call, error) {
	r := CallRow{
		BroadcastID: id, Seq: int32(sub.Seq), PhoneRaw: sub.Phone, Phone: transform.Phone(sub.Phone),
		StatusText: sub.Status, Status: CallStatus(sub.Status), Extras: extrasJSON(sub),
		RunID: mc.RunID, ExtractedAt: mc.ExtractedAt,
	}
	if sub.Err != nil {
		return r, nil, errSubscriber(sub.Seq, sub.Err)
	}
	if err := r.fill(mc, sub); err != nil {
		return r, nil, errSubscriber(sub.Seq, err)
	}
	r.Final = SubscriberFinal(&r, mc.Now, mc.RedialWindow)
	if r.CalledAt.IsZero() {
		return r, nil, nil
	}
	c := &model.Call{
		Source: Name, Date: r.Date, Account: mc.Account, CallID: id + "-" + strconv.Itoa(sub.Seq),
		Direction: model.Autocall, StartedAt: r.CalledAt, Callee: r.Phone, CalleeRaw: r.PhoneRaw,
		TalkS: r.DurationS, Cost: r.Price, Currency: Currency, Status: r.StatusText,
		RunID: mc.RunID, ExtractedAt: mc.ExtractedAt,
	}
	return r, c, nil
}

func (r *CallRow) fill(mc *MapContext, sub *Subscriber) error {
	if strings.TrimSpace(sub.Phone) == "" {
		return errors.New("phone is missing")
	}
	if r.Phone == "" {
		return fmt.Errorf("phone %q is not a phone number", sub.Phone)
	}
	var err error
	if r.CalledAt, err = ParseDate(sub.Date, mc.Vendor); err != nil {
		return err
	}
	if !r.CalledAt.IsZero() {
		r.CalledAt = r.CalledAt.UTC()
		r.Date = model.Day(r.CalledAt, mc.Business)
	}
	if r.Attempts, err = parseCount("attempts", sub.Attempts); err != nil {
		return err
	}
	if r.DurationS, err = parseCount("duration", sub.Duration); err != nil {
		return err
	}
	if r.Price, err = ParseMoney(sub.Price); err != nil {
		return fmt.Errorf("price: %w", err)
	}
	if t := sub.Transfer; t != nil {
		r.TransferNumberRaw = nullString(t.Number)
		r.TransferNumber = nullString(transform.Phone(t.Number))
		r.TransferStatusTxt = nullString(t.Status)
		r.TransferStatus = nullString(CallStatus(t.Status))
		if r.TransferDurationS, err = parseCount("transfer.duration", t.Duration); err != nil {
			return err
		}
		if r.TransferPrice, err = ParseMoney(t.Price); err != nil {
			return fmt.Errorf("transfer.price: %w", err)
		}
	}
	if m := sub.SMS; m != nil {
		if r.SMSDate, err = ParseDate(m.Date, mc.Vendor); err != nil {
			return fmt.Errorf("sms.%w", err)
		}
		if !r.SMSDate.IsZero() {
			r.SMSDate = r.SMSDate.UTC()
		}
		r.SMSMessage = nullString(m.Message)
		r.SMSStatusText = nullString(m.Status)
		r.SMSStatus = nullString(SMSStatus(m.Status))
		if r.SMSParts, err = parseCount("sms.partition", m.Partition); err != nil {
			return err
		}
		if r.SMSPrice, err = ParseMoney(m.Price); err != nil {
			return fmt.Errorf("sms.price: %w", err)
		}
	}
	return nil
}

// BroadcastRow is one row of `mobilgroup_broadcasts`: a broadcast as one
// extraction saw it.
type BroadcastRow struct {
	Date string // partition: BroadcastDay

	BroadcastID   string
	Phones        sql.Null[int32]
	Budget        sql.Null[model.Money]
	PriceTotal    model.Money // Σ price of the subscribers mapped (rejected ones excluded)
	Subscribers   int64       // subscribers listed, rejected ones included
	Rejected      int64
	Called        int64 // subscribers with a date
	ByStatus      map[string]int64
	FirstCalledAt time.Time
	LastCalledAt  time.Time
	Final         bool
	Extras        string
	RunID         string
	ExtractedAt   time.Time
}

// BroadcastDay is the partition of a broadcast's mobilgroup_broadcasts row,
// its rejects and its subscribers without a date: the day, in the business
// zone, of the earliest date among its mapped subscribers, or the run's day
// when none has a date yet.
func BroadcastDay(rows []CallRow, mc *MapContext, run model.Run) string {
	var first time.Time
	for i := range rows {
		if t := rows[i].CalledAt; !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if first.IsZero() {
		return run.Day()
	}
	return model.Day(first, mc.Business)
}
