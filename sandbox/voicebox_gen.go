package sandbox

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// Traffic generation of the VoiceBox emulator. Everything derives from
// (Seed, customer), so one customer's data does not depend on the others.

// vbCampaignSpecs are the campaigns every customer has; the last one is
// deleted (listed only by /callhistory/campaigns) and has calls in the
// first half of the days only.
var vbCampaignSpecs = []struct {
	name, typ, status string
}{
	{"Напоминание о платеже", VoiceBoxOutgoing, "Active"},
	{"Опрос NPS", VoiceBoxOutgoing, "Paused"},
	{"Входящая линия поддержки", VoiceBoxIncoming, "Active"},
	{"Информирование об акции", VoiceBoxOutgoing, "Stopped"},
	{"Старая рассылка", VoiceBoxOutgoing, "Stopped"},
}

// vbRatePerMinute is the price of an answered outgoing minute, kopecks.
const vbRatePerMinute = 120

// vbRow is a generated row before serialisation.
type vbRow struct {
	at  time.Time // ordering time (nominal for rows without a usable one)
	id  int64
	raw []byte
}

// vbObject writes a JSON object with keys in the given order.
type vbObject struct{ b bytes.Buffer }

func (o *vbObject) add(key string, v any) {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteByte(',')
	}
	k, _ := json.Marshal(key)
	o.b.Write(k)
	o.b.WriteByte(':')
	switch x := v.(type) {
	case json.Number:
		o.b.WriteString(string(x))
	case []byte: // a JSON value already
		o.b.Write(x)
	default:
		enc, err := json.Marshal(x)
		if err != nil {
			panic(err) // only strings and integers are added
		}
		o.b.Write(enc)
	}
}

func (o *vbObject) bytes() []byte {
	if o.b.Len() == 0 {
		return []byte("{}")
	}
	o.b.WriteByte('}')
	return o.b.Bytes()
}

// vbMoney writes kopecks as "12.30" (sep '.') or "12,30" (sep ',').
func vbMoney(kop int64, sep byte) string {
	sign := ""
	if kop < 0 {
		sign, kop = "-", -kop
	}
	return sign + strconv.FormatInt(kop/100, 10) + string(sep) + strconv.FormatInt(100+kop%100, 10)[1:]
}

// generate builds customer number i (id) from the seed.
func (v *VoiceBox) generate(i int, id string) *vbCustomer {
	r := &rng{s: newHasher(v.cfg.Seed).str("voicebox").str(id).sum()}
	c := &vbCustomer{id: id}
	for k, spec := range vbCampaignSpecs {
		cp := VoiceBoxCampaign{
			ID: int64(10000*(i+1) + 17 + 3*k), Name: spec.name, Type: spec.typ, Status: spec.status,
			Deleted: k == len(vbCampaignSpecs)-1,
		}
		if cp.Type == VoiceBoxIncoming {
			cp.EntryPoint = string(r.digits([]byte("7800"), 7))
		} else {
			cp.EntryPoint = "Расписание: пн-пт 10:00-19:00"
			cp.Caller = string(r.digits([]byte("7495"), 7))
		}
		c.campaigns = append(c.campaigns, cp)
	}
	c.balance = int64(r.intn(5_000_000)) - 200_000

	var rows []vbRow
	perCampaign := make(map[int64]int)
	if !v.cfg.Start.IsZero() {
		y, m, d := v.cfg.Start.In(v.cfg.Vendor).Date()
		for dn := range max(v.cfg.Days, 0) {
			day := time.Date(y, m, d+dn, 0, 0, 0, 0, v.cfg.Vendor)
			n := 0
			if v.cfg.CallsPerDay > 0 {
				n = v.cfg.CallsPerDay * (80 + r.intn(41)) / 100
			}
			for j := range n {
				rowID := int64(i+1)*1_000_000_000 + int64(dn)*100_000 + int64(j)
				camps := c.campaigns
				if dn >= max(v.cfg.Days/2, 1) {
					camps = camps[:len(camps)-1]
				}
				cp := camps[r.intn(len(camps))]
				call := v.call(r, id, rowID, j, day.Add(time.Duration(r.secondOfDay())*time.Second), cp)
				perCampaign[cp.ID]++
				rows = append(rows, vbRow{at: call.Start, id: rowID, raw: []byte(call.Raw)})
				c.calls = append(c.calls, call)
			}
			for k := range max(v.cfg.BadRowsPerDay, 0) {
				rowID := int64(i+1)*1_000_000_000 + int64(dn)*100_000 + 90_000 + int64(k)
				at := day.Add(time.Duration(r.secondOfDay()) * time.Second)
				cp := c.campaigns[0]
				o := &vbObject{}
				o.add("id", rowID)
				o.add("campaignId", cp.ID)
				o.add("campaignName", cp.Name)
				o.add("direction", cp.Type)
				o.add("callerNumber", cp.Caller)
				o.add("calledNumber", r.mobileNumber())
				bad := VoiceBoxBadRow{Customer: id}
				if k%2 == 0 {
					bad.Reason = "start"
					o.add("startTime", "31.11."+strconv.Itoa(y)+" 25:61")
					o.add("duration", 0)
					o.add("status", "FAILED")
				} else {
					bad.Reason = "cost"
					bad.Day = at.In(v.cfg.Vendor).Format("2006-01-02")
					o.add("startTime", at.In(v.cfg.Vendor).Format(time.RFC3339))
					o.add("duration", 12)
					o.add("status", "ANSWERED")
					o.add("cost", "1,2,3")
				}
				bad.Raw = string(o.bytes())
				c.bad = append(c.bad, bad)
				rows = append(rows, vbRow{at: at, id: rowID, raw: []byte(bad.Raw)})
			}
		}
	}
	// Newest first, as served.
	slices.SortStableFunc(rows, func(a, b vbRow) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	slices.SortStableFunc(c.calls, func(a, b VoiceBoxCall) int { return b.Start.Compare(a.Start) })
	for _, row := range rows {
		c.rows = append(c.rows, row.raw)
	}
	for k, cp := range c.campaigns {
		if !cp.Deleted {
			o := &vbObject{}
			o.add("id", cp.ID)
			o.add("name", cp.Name)
			o.add("campaignType", cp.Type)
			o.add("status", cp.Status)
			o.add("entryPoint", cp.EntryPoint)
			if cp.Type == VoiceBoxOutgoing {
				o.add("launchBy", "schedule")
				num := &vbObject{}
				num.add("number", cp.Caller)
				o.add("callerNumber", num.bytes())
			}
			sc := &vbObject{}
			sc.add("id", 500+k)
			sc.add("title", "Сценарий "+strconv.Itoa(k+1))
			o.add("scenario", sc.bytes())
			c.campRows = append(c.campRows, o.bytes())
		}
		if n := perCampaign[cp.ID]; n > 0 {
			o := &vbObject{}
			o.add("campaignId", cp.ID)
			o.add("campaignName", cp.Name)
			o.add("campaignType", cp.Type)
			o.add("callsCount", n)
			c.histCamps = append(c.histCamps, o.bytes())
		}
	}
	return c
}

// call generates one good call of campaign cp starting at start.
func (v *VoiceBox) call(r *rng, customer string, rowID int64, j int, start time.Time, cp VoiceBoxCampaign) VoiceBoxCall {
	c := VoiceBoxCall{
		Customer: customer, ID: strconv.FormatInt(rowID, 10), CampaignID: cp.ID, CampaignName: cp.Name,
		Direction: cp.Type, Start: start.UTC(), Currency: "RUB",
	}
	if j%23 == 11 {
		c.ID = "" // the row has no id
	}
	if cp.Type == VoiceBoxOutgoing {
		c.Caller, c.Callee = cp.Caller, r.spell(r.mobileNumber())
		switch p := r.intn(100); {
		case p < 60:
			c.Status, c.DurationS = "ANSWERED", 5+r.intn(295)
		case p < 80:
			c.Status = "NO_ANSWER"
		case p < 90:
			c.Status = "BUSY"
		default:
			c.Status = "FAILED"
		}
		c.HasCost = true
		c.CostKopecks = int64((c.DurationS+59)/60) * vbRatePerMinute
		if j%2 == 0 {
			c.CostWire = vbMoney(c.CostKopecks, '.')
		} else {
			c.CostWire = vbMoney(c.CostKopecks, ',')
		}
	} else {
		c.Caller, c.Callee = r.spell(r.externalNumber()), cp.EntryPoint
		if r.chance(900) {
			c.Status, c.DurationS = "ANSWERED", 10+r.intn(400)
		} else {
			c.Status = "ABANDONED"
		}
	}
	c.End = c.Start.Add(time.Duration(c.DurationS) * time.Second)

	o := &vbObject{}
	if c.ID != "" {
		o.add("id", rowID)
	}
	o.add("campaignId", cp.ID)
	o.add("campaignName", cp.Name)
	o.add("direction", c.Direction)
	o.add("callerNumber", c.Caller)
	o.add("calledNumber", c.Callee)
	o.add("startTime", c.Start.In(v.cfg.Vendor).Format(time.RFC3339))
	o.add("endTime", c.End.In(v.cfg.Vendor).Format(time.RFC3339))
	o.add("duration", c.DurationS)
	o.add("status", c.Status)
	if c.HasCost {
		if j%2 == 0 {
			o.add("cost", json.Number(c.CostWire))
		} else {
			o.add("cost", c.CostWire)
		}
		o.add("currency", c.Currency)
	}
	if j%7 == 3 { // fields no extractor knows
		if c.Status == "ANSWERED" {
			o.add("recordUrl", "https://voicebox.mtt.ru/records/"+strconv.FormatInt(rowID, 10)+".mp3")
		}
		o.add("dtmf", strconv.Itoa(r.intn(10)))
		vars := &vbObject{}
		vars.add("name", []string{"Иван", "Мария", "Пётр"}[r.intn(3)])
		vars.add("contract", strconv.Itoa(100000+r.intn(900000)))
		o.add("variables", vars.bytes())
	}
	c.Raw = string(o.bytes())
	return c
}
