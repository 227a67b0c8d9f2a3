package sandbox

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
)

// Task and call generation of the VotBox emulator. Every item gets a plan
// at construction: how many steps it stays queued, how many in progress,
// and its final state. Advance only moves the step counter.

// Bounds of the plans: a task i waits min(i, votboxMaxOffset) *
// votboxOffsetStep steps more than the first, an item up to votboxMaxQueue
// − 1 more, then it is in progress for 1 or 2 steps. Everything is final
// after votboxMaxOffset*votboxOffsetStep + votboxMaxQueue − 1 + 2 steps at
// most (15).
const (
	votboxMaxOffset  = 4
	votboxOffsetStep = 2
	votboxMaxQueue   = 6
	votboxStepBound  = votboxMaxOffset*votboxOffsetStep + votboxMaxQueue - 1 + 2
	votboxRateKop    = 120 // subscriber leg, kopecks per started minute
	votboxOperKop    = 80  // operator leg
)

var votboxTaskNames = []string{
	`Напоминание о платеже`,
	`Опрос "Качество связи"`,
	`Акция <Весна> & скидки`,
	`Информирование абонентов`,
	`Задолженность за услуги`,
	`Подтверждение записи`,
}

var votboxFailCauses = []string{"NO_ANSWER", "USER_BUSY", "CALL_REJECTED", "UNALLOCATED_NUMBER"}

// votboxTask is a task with the plans of its items.
type votboxTask struct {
	id    int64
	name  string
	start time.Time
	items []votboxPlan
}

// votboxPlan is one item's life: queued while step < queued, in progress
// while step < queued+progress, final afterwards.
type votboxPlan struct {
	queued, progress int
	final            VotBoxItem
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (v *VotBox) generate() {
	h := newHasher(v.cfg.Seed).str("votbox")
	counts := v.cfg.TaskItems
	if len(counts) == 0 {
		r := rng{h.str("counts").sum()}
		mean := v.cfg.ItemsPerTask
		counts = make([]int, v.cfg.Tasks)
		for i := range counts {
			counts[i] = max(1, mean*3/4+r.intn(mean/2+1))
		}
	}
	r := rng{h.str("tasks").sum()}
	taskID := 100000 + int64(r.intn(900000))
	itemID := 20000000 + int64(r.intn(10000000))
	start := v.cfg.Start.UTC().Truncate(time.Second)
	for i, n := range counts {
		if i > 0 {
			taskID += 1 + int64(r.intn(40))
			start = start.Add(2*time.Hour + time.Duration(r.intn(180))*time.Minute)
			itemID += int64(r.intn(500))
		}
		t := votboxTask{
			id:    taskID,
			name:  votboxTaskNames[r.intn(len(votboxTaskNames))] + " " + strconv.Itoa(i+1),
			start: start,
			items: make([]votboxPlan, max(n, 0)),
		}
		offset := min(i, votboxMaxOffset) * votboxOffsetStep
		for j := range t.items {
			itemID++
			p := v.plan(h, &t, j, itemID, offset)
			v.maxSteps = max(v.maxSteps, p.queued+p.progress)
			v.byItem[itemID] = [2]int{i, j}
			if p.final.RecFileName != "" {
				v.byFile[p.final.RecFileName] = itemID
			}
			t.items[j] = p
		}
		v.tasks = append(v.tasks, t)
	}
}

// plan draws the life of item j of t.
func (v *VotBox) plan(h hasher, t *votboxTask, j int, id int64, offset int) votboxPlan {
	r := rng{h.int(t.id).int(id).sum()}
	it := VotBoxItem{ID: id}
	switch k := r.intn(10); {
	case k < 8:
		it.Phone = string(r.digits([]byte("89"), 9))
	case k < 9:
		it.Phone = string(r.digits([]byte("8495"), 7))
	default:
		it.Phone = string(r.digits([]byte("8812"), 7))
	}
	switch k := r.intn(1000); {
	case k < 450:
		it.JobStatus, it.Attempts = VotBoxSuccess, 1+r.intn(3)
		it.CallDuration = 8 + r.intn(68)
		it.HangupCause = "NORMAL_CLEARING"
	case k < 650:
		it.JobStatus, it.Attempts = VotBoxOperator, 1+r.intn(2)
		it.CallDuration, it.OperCallDuration = 10+r.intn(31), 15+r.intn(886)
		it.HangupCause = "NORMAL_CLEARING"
	case k < 850:
		it.JobStatus, it.Attempts = VotBoxError, 1+r.intn(3)
		it.HangupCause = votboxFailCauses[r.intn(len(votboxFailCauses))]
	case k < 880:
		it.JobStatus, it.Attempts = VotBoxBilling, 1
		it.HangupCause = "OUTGOING_CALL_BARRED"
	case k < 950:
		it.JobStatus, it.Attempts = VotBoxExpired, r.intn(4)
		it.HangupCause = "NO_ANSWER"
	default:
		it.JobStatus, it.Attempts = VotBoxUserEnded, r.intn(2)
		it.CallDuration = r.intn(20)
		it.HangupCause = "ORIGINATOR_CANCEL"
	}
	it.JobStatusStr = VotBoxJobStatusStr(it.JobStatus)
	p := votboxPlan{queued: offset + r.intn(votboxMaxQueue), progress: 1 + r.intn(2)}
	first := t.start.Add(time.Duration(j*4+r.intn(60)) * time.Second)
	ring := 3 + r.intn(25)
	if it.Attempts == 0 {
		it.CallDuration, it.HangupCause, p.progress = 0, "", 0
	} else {
		it.CallTime = first.Add(time.Duration(it.Attempts-1) * 10 * time.Minute)
		it.DialStart = it.CallTime
		it.DialEnd = it.CallTime.Add(time.Duration(ring+it.CallDuration+it.OperCallDuration) * time.Second)
	}
	it.CallPayKop = int64((it.CallDuration+59)/60) * votboxRateKop
	it.OperCallPayKop = int64((it.OperCallDuration+59)/60) * votboxOperKop
	if it.JobStatus == VotBoxOperator && r.chance(850) {
		it.RecFileName = it.CallTime.In(v.moscow).Format("20060102-150405") + "-" + strconv.FormatInt(id, 10) + ".wav"
	}
	p.final = it
	return p
}

// at returns the item as it stands at step.
func (p *votboxPlan) at(step int) VotBoxItem {
	f := p.final
	switch {
	case step < p.queued:
		return VotBoxItem{ID: f.ID, Phone: f.Phone, JobStatus: VotBoxQueued, JobStatusStr: VotBoxJobStatusStr(VotBoxQueued)}
	case step < p.queued+p.progress:
		return VotBoxItem{ID: f.ID, Phone: f.Phone, JobStatus: VotBoxInProgress,
			JobStatusStr: VotBoxJobStatusStr(VotBoxInProgress), Attempts: f.Attempts,
			CallTime: f.CallTime, DialStart: f.DialStart}
	}
	return f
}

// taskAt returns task i at step, with its items when withItems.
func (v *VotBox) taskAt(i, step int, withItems bool) VotBoxTask {
	t := &v.tasks[i]
	out := VotBoxTask{ID: t.id, Name: t.name, StartTime: t.start}
	started, final := false, true
	for j := range t.items {
		p := &t.items[j]
		if step >= p.queued {
			started = true
		}
		if step < p.queued+p.progress {
			final = false
		}
		if withItems {
			it := p.at(step)
			it.Bad = v.cfg.BadEvery > 0 && (j+1)%v.cfg.BadEvery == 0
			it.NoCost = v.cfg.NoCostEvery > 0 && (j+1)%v.cfg.NoCostEvery == 0
			out.Items = append(out.Items, it)
		}
	}
	switch {
	case final:
		out.Status = VotBoxTaskFinished
	case started:
		out.Status = VotBoxTaskRunning
	default:
		out.Status = VotBoxTaskWaiting
	}
	out.StatusStr = VotBoxTaskStatusStr(out.Status)
	return out
}

// votboxWAV returns a small deterministic recording: 8 kHz 8-bit mono PCM,
// a quarter of a second.
func votboxWAV(seed int64, name string) []byte {
	r := rng{newHasher(seed).str("votbox-wav").str(name).sum()}
	const n = 2000
	b := make([]byte, 44, 44+n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], 36+n)
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 8000)
	binary.LittleEndian.PutUint16(b[32:], 1)
	binary.LittleEndian.PutUint16(b[34:], 8)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], n)
	for range n {
		b = append(b, byte(128+r.intn(32)-16))
	}
	return b
}
