package sandbox

import (
	"strings"
)

// CHECK BALANCE API of the VotBox emulator (check.balance.api.php). The
// vendor document lost the answer's example, so its shape is the
// emulator's decision (testdata/votbox/README.md):
//
//	attr: <response><balance value="49873.40" currency="RUB"/></response>
//	elem: <response><balance>49873.40</balance><currency>RUB</currency></response>
//
// in roubles, with a decimal comma when the charset is windows-1251 (a PHP
// service with a Russian locale). The element form at an odd step prints
// the amount as PHP prints a float (49873.4, 49873: no trailing zeros, no
// separator for whole roubles) and sends no currency, which the document
// does not promise either. Credentials are checked as for every script;
// the answer needs no other field.

const votboxBalance = "check.balance.api"

// votboxOpening is the balance before any call was charged, in kopecks:
// 50 000 roubles plus up to 1 000 by seed.
func (v *VotBox) votboxOpening() int64 {
	return 5_000_000 + int64(newHasher(v.cfg.Seed).str("votbox-balance").sum()%100_000)
}

// Balance is the account balance now, in kopecks: the opening balance less
// callpay and opercallpay of every final item (the ground truth of
// check.balance).
func (v *VotBox) Balance() int64 { return v.balanceAt(v.currentStep()) }

func (v *VotBox) balanceAt(step int) int64 {
	b := v.votboxOpening()
	for i := range v.tasks {
		for _, it := range v.taskAt(i, step, true).Items {
			if VotBoxFinal(it.JobStatus) {
				b -= it.CallPayKop + it.OperCallPayKop
			}
		}
	}
	return b
}

// balance answers check.balance.api.php.
func (v *VotBox) balance(b *strings.Builder, step int) {
	sep := byte('.')
	if v.cfg.Charset == VotBoxCP1251 {
		sep = ','
	}
	amount := vbMoney(v.balanceAt(step), sep)
	if v.cfg.Form != VotBoxElem {
		b.WriteString(`<balance value="` + amount + `" currency="RUB"/>` + "\n")
		return
	}
	if step%2 == 1 {
		b.WriteString("<balance>" + phpFloat(amount, sep) + "</balance>\n")
		return
	}
	b.WriteString("<balance>" + amount + "</balance>\n<currency>RUB</currency>\n")
}

// phpFloat prints a two-decimal amount as PHP prints a float: without
// trailing zeros, and without the separator when nothing follows it
// ("49873.40" → "49873.4", "49873.00" → "49873").
func phpFloat(amount string, sep byte) string {
	return strings.TrimSuffix(strings.TrimRight(amount, "0"), string(sep))
}
