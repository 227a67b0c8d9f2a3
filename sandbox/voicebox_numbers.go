package sandbox

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// Customer data and numbers of the VoiceBox emulator:
//
//	GET /customers/{id}                            the customer (document 3.2)
//	GET /customers/{id}/numbers                    the customer's numbers (4.3), Range-paged like every list
//	GET /customers/{id}/numbers/{number_id}/price  a number's monthly fee (4.6)
//
// The document gives the fields of the first two but no example, and no
// schema for the price; the shapes here are the emulator's decision:
//
//   - a numbers row has exactly the document's fields (type, owner, number
//     as a JSON integer, regionName, regionCode, category, description,
//     campaigns) and no id: {number_id} of the price path is the number
//     (VoiceBoxConfig.NumberIDs chooses a separate id, listed first in each
//     row or never listed);
//   - the customer object has the document's fields in its order, among
//     them password and passwordRL: the API hands out credentials, which an
//     extractor must never store;
//   - the price is {"numberId":…,"price":…,"setupPrice":…,"currency":"RUB",
//     "period":"month"}, the price (the monthly fee, "абонентская плата")
//     a JSON number for even positions in the list and a string with a
//     decimal comma for odd ones.
//
// Numbers derive from (Seed, customer) through their own generator, so
// adding them changed no call, campaign or balance of earlier versions.

// VoiceBoxNumber is one number of a customer as served: the ground truth.
type VoiceBoxNumber struct {
	Number      string // 11 digits, served as a JSON integer
	ID          string // the {number_id} its price answers to: Number, or a separate id (VoiceBoxConfig.NumberIDs)
	Type        string // ABC, DEF or TollFree
	Owner       string
	RegionName  string
	RegionCode  string
	Category    string // REGULAR, SILVER or GOLD
	Description string
	Campaigns   []string // names of the campaigns on the number
	FeeKopecks  int64    // monthly fee
	FeeWire     string   // the price as served ("350.00" or "350,00")
	Raw         string   // the list row's JSON exactly as served
	PriceRaw    string   // the price answer exactly as served
}

// VoiceBoxCustomer is the customer object of GET /customers/{id}.
type VoiceBoxCustomer struct {
	ID              string
	Name            string
	Status          string
	Description     string
	Login           string
	Password        string // served by the API: a credential
	Email           string
	Phone           string
	PersonalAccount string
	LoginRL         string
	PasswordRL      string // served by the API: a credential
	ManagerEmail    string
	Raw             string // the answer exactly as served
}

var vbCompanies = []string{`ООО "Ромашка"`, `АО "Вектор & Ко"`, `ИП Сидоров <Опт>`}

// generateNumbers builds customer number i's customer object and numbers:
// the incoming campaigns' entry points, the outgoing campaigns' caller
// numbers and one spare mobile number without campaigns.
func (v *VoiceBox) generateNumbers(i int, c *vbCustomer) {
	r := &rng{s: newHasher(v.cfg.Seed).str("voicebox-numbers").str(c.id).sum()}
	secret := func(prefix string) string {
		b := make([]byte, 8)
		for k := range b {
			b[k] = byte(r.next())
		}
		return prefix + hex.EncodeToString(b)
	}
	info := VoiceBoxCustomer{
		ID: c.id, Name: vbCompanies[i%len(vbCompanies)], Status: "ACTIVE", Description: "Клиент VoiceBox №" + c.id,
		Login: "cust" + c.id, Password: secret("vbcust-pw-"), Email: "robot" + c.id + "@example.ru",
		Phone: string(r.digits([]byte("7495"), 7)), PersonalAccount: "1100" + string(r.digits(nil, 5)),
		LoginRL: "rl" + c.id, PasswordRL: secret("vbcust-rl-"), ManagerEmail: "manager@mtt.example",
	}
	o := &vbObject{}
	id, _ := strconv.ParseInt(c.id, 10, 64)
	o.add("id", id)
	o.add("name", info.Name)
	o.add("status", info.Status)
	o.add("description", info.Description)
	o.add("login", info.Login)
	o.add("password", info.Password)
	o.add("email", info.Email)
	o.add("phone", info.Phone)
	o.add("personalAccount", info.PersonalAccount)
	o.add("loginRL", info.LoginRL)
	o.add("passwordRL", info.PasswordRL)
	o.add("managerEmail", info.ManagerEmail)
	tp := &vbObject{}
	tp.add("tariff", "VoiceBox Бизнес")
	tp.add("minuteRate", vbMoney(vbRatePerMinute, ','))
	o.add("tarifficationParams", tp.bytes())
	info.Raw = string(o.bytes())
	c.info = info

	var nums []VoiceBoxNumber
	add := func(number, typ string, campaign string) {
		for k := range nums {
			if nums[k].Number == number {
				if campaign != "" {
					nums[k].Campaigns = append(nums[k].Campaigns, campaign)
				}
				return
			}
		}
		n := VoiceBoxNumber{Number: number, Type: typ, Owner: "MTT", RegionName: "Москва", RegionCode: "MOW", Category: "REGULAR"}
		if campaign != "" {
			n.Campaigns = []string{campaign}
		}
		nums = append(nums, n)
	}
	for _, cp := range c.campaigns {
		if cp.Deleted {
			continue
		}
		if cp.Type == VoiceBoxIncoming {
			add(cp.EntryPoint, "TollFree", cp.Name)
		} else {
			add(cp.Caller, "ABC", cp.Name)
		}
	}
	add(r.mobileNumber(), "DEF", "")
	for k := range nums {
		n := &nums[k]
		base := map[string]int64{"ABC": 35_000, "DEF": 20_000, "TollFree": 150_000}[n.Type]
		switch p := r.intn(10); {
		case p < 6:
		case p < 9:
			n.Category, base = "SILVER", base*2
		default:
			n.Category, base = "GOLD", base*5
		}
		if n.Type == "DEF" {
			n.RegionName, n.RegionCode = "Россия", "RU"
		}
		n.FeeKopecks = base + int64(r.intn(100))*10 // e.g. 350,40
		n.Description = "Номер " + n.Type + " для " + c.id
		n.ID = n.Number
		if v.cfg.NumberIDs != VoiceBoxIDIsNumber {
			n.ID = strconv.Itoa(90_000 + 100*i + k) // never an 11-digit number
		}
		if len(n.Campaigns) == 0 {
			n.Description += " (резерв)"
		}
		row := &vbObject{}
		if v.cfg.NumberIDs == VoiceBoxIDListed {
			row.add("id", json.Number(n.ID))
		}
		row.add("type", n.Type)
		row.add("owner", n.Owner)
		row.add("number", json.Number(n.Number))
		row.add("regionName", n.RegionName)
		row.add("regionCode", n.RegionCode)
		row.add("category", n.Category)
		row.add("description", n.Description)
		var camps []byte
		camps = append(camps, '[')
		for j, name := range n.Campaigns {
			if j > 0 {
				camps = append(camps, ',')
			}
			co := &vbObject{}
			co.add("name", name)
			for _, cp := range c.campaigns {
				if cp.Name == name {
					co.add("campaignType", cp.Type)
					co.add("entryPoint", cp.EntryPoint)
				}
			}
			camps = append(camps, co.bytes()...)
		}
		camps = append(camps, ']')
		row.add("campaigns", camps)
		n.Raw = string(row.bytes())

		price := &vbObject{}
		price.add("numberId", json.Number(n.ID))
		if k%2 == 0 {
			n.FeeWire = vbMoney(n.FeeKopecks, '.')
			price.add("price", json.Number(n.FeeWire))
		} else {
			n.FeeWire = vbMoney(n.FeeKopecks, ',')
			price.add("price", n.FeeWire)
		}
		price.add("setupPrice", json.Number("0"))
		price.add("currency", "RUB")
		price.add("period", "month")
		n.PriceRaw = string(price.bytes())
		c.numRows = append(c.numRows, []byte(n.Raw))
	}
	c.numbers = nums
}

// numberRoutes adds the customer and numbers endpoints to mux.
func (v *VoiceBox) numberRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		if c := v.api(w, r, "customer"); c != nil {
			vbWrite(w, http.StatusOK, []byte(c.info.Raw))
		}
	})
	mux.HandleFunc("GET /customers/{id}/numbers", func(w http.ResponseWriter, r *http.Request) {
		if c := v.api(w, r, "numbers"); c != nil {
			v.list(w, r, c.numRows)
		}
	})
	mux.HandleFunc("GET /customers/{id}/numbers/{number}/price", func(w http.ResponseWriter, r *http.Request) {
		c := v.api(w, r, "price")
		if c == nil {
			return
		}
		for _, n := range c.numbers {
			if n.ID == r.PathValue("number") {
				vbWrite(w, http.StatusOK, []byte(n.PriceRaw))
				return
			}
		}
		vbError(w, http.StatusNotFound, "not_found", "number "+r.PathValue("number")+" of customer "+c.id+" not found")
	})
}

// Numbers returns the numbers of customer, in the order served.
func (v *VoiceBox) Numbers(customer string) []VoiceBoxNumber {
	if c := v.customers[customer]; c != nil {
		out := slices.Clone(c.numbers)
		for i := range out {
			out[i].Campaigns = slices.Clone(out[i].Campaigns)
		}
		return out
	}
	return nil
}

// Customer returns the customer object of customer.
func (v *VoiceBox) Customer(customer string) VoiceBoxCustomer {
	if c := v.customers[customer]; c != nil {
		return c.info
	}
	return VoiceBoxCustomer{}
}

// CustomerSecrets returns the credentials the customer objects carry
// (password and passwordRL of every customer), for tests that check none
// lands in logs, errors or the lake.
func (v *VoiceBox) CustomerSecrets() []string {
	var out []string
	for _, id := range v.cfg.Customers {
		c := v.customers[id]
		out = append(out, c.info.Password, c.info.PasswordRL)
	}
	return out
}
