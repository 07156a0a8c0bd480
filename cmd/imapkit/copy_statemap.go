package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// The UID maps of a copy's state (copyBox.UIDMap) grow by a group at each
// APPEND, and the state file is saved twice per group. Written whole at
// each save, a map of one run per message (a source whose UIDs have gaps:
// mail deleted before the copy) made each save cost O(messages copied so
// far) and a copy O(n^2) in state writes: hours for a million messages.
// So during a run the maps live in a journal next to the state file,
// STATE.uidmap, and the state file is saved without them:
//
//   - the first save of a run writes the journal anew (a synced temporary
//     file renamed over it), one "set" line per mailbox holding its map
//     whole: O(n) once per run;
//   - every save then appends the map's changes since the last one (a
//     group's pairs) to the journal and syncs it, then writes the state
//     file without the maps: O(group + mailboxes) per save;
//   - the end of the run (compact) writes the state file with the maps
//     whole, as before, and removes the journal;
//   - loading reads the state file, then replays the journal when there
//     is one (a run killed before its end left it). Its lines set or add
//     to a map and say for which destination UIDVALIDITY: replayed over
//     the state they were written after, or over the state a compaction
//     wrote from them (killed before the removal), they give the same
//     maps. A last line cut short by the kill is ignored.
//
// The journal is written before the state file at each save: the maps
// never lag the state's LAST_UID. A state file without maps and no journal
// is a state written before the map existed (or by an older imapkit).

// mapRecord is one line of the map journal.
type mapRecord struct {
	Box string `json:"box"` // source mailbox name
	// V is the destination UIDVALIDITY the map is for.
	V uint32 `json:"v"`
	// Set replaces the mailbox's map by Map; otherwise Pairs are added
	// as mapAppended adds them (dropping a map for another UIDVALIDITY).
	Set   bool        `json:"set,omitempty"`
	Map   uidMap      `json:"map,omitempty"`
	Pairs [][2]uint32 `json:"pairs,omitempty"`
}

// mapJournalPath is the map journal of the state file path.
func mapJournalPath(path string) string { return path + ".uidmap" }

// resetMap drops the map of b for a destination of UIDVALIDITY v.
func (b *copyBox) resetMap(v uint32) {
	b.UIDMap, b.DstUIDValidity = nil, v
	b.mapLog = append(b.mapLog, mapRecord{V: v, Set: true})
}

// addPairs maps src[i] to dst[i] for a destination of UIDVALIDITY v,
// dropping a map kept for another; a src given twice keeps its last dst.
func (b *copyBox) addPairs(v uint32, src, dst []uint32) {
	if b.DstUIDValidity != v {
		b.UIDMap, b.DstUIDValidity = nil, v
	}
	b.UIDMap.addMany(src, dst)
}

// boxNames returns the names of the mailboxes of st, sorted.
func (st *copyState) boxNames() []string {
	names := make([]string, 0, len(st.Mailboxes))
	for name := range st.Mailboxes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// save writes the state during a run: the maps' changes to the journal
// (begun with the maps whole at the first save), then the state file
// without the maps. See compact for the end of the run.
func (st *copyState) save(path string) error {
	if err := st.logMaps(path); err != nil {
		return err
	}
	lean := *st
	lean.Mailboxes = make(map[string]*copyBox, len(st.Mailboxes))
	for name, box := range st.Mailboxes {
		c := *box
		c.UIDMap, c.mapLog = nil, nil
		lean.Mailboxes[name] = &c
	}
	return saveJSON(path, &lean)
}

// logMaps writes the maps' changes since the last save to the journal, or,
// at the run's first save (or after a failed write), the journal anew with
// the maps whole.
func (st *copyState) logMaps(path string) error {
	var b []byte
	line := func(r mapRecord) error {
		j, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b = append(append(b, j...), '\n')
		return nil
	}
	jpath := mapJournalPath(path)
	if st.journal == nil {
		for _, name := range st.boxNames() {
			box := st.Mailboxes[name]
			box.mapLog = nil
			if box.DstUIDValidity == 0 && len(box.UIDMap) == 0 {
				continue
			}
			if err := line(mapRecord{Box: name, V: box.DstUIDValidity, Set: true, Map: box.UIDMap}); err != nil {
				return err
			}
		}
		if err := writeFileAtomic(jpath, b); err != nil {
			return err
		}
		f, err := os.OpenFile(jpath, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		st.journal = f
	} else {
		for _, name := range st.boxNames() {
			box := st.Mailboxes[name]
			for _, r := range box.mapLog {
				r.Box = name
				if err := line(r); err != nil {
					return err
				}
			}
		}
		if len(b) > 0 {
			_, err := st.journal.Write(b)
			if err == nil {
				err = st.journal.Sync()
			}
			if err != nil {
				// A line may be cut short: the next save (copy goes
				// on with the next mailbox) writes the journal anew
				// rather than append after it.
				st.journal.Close()
				st.journal = nil
				return err
			}
		}
		for _, box := range st.Mailboxes {
			box.mapLog = nil
		}
	}
	return nil
}

// compact ends a run's state: the state file written with the maps whole
// (writeWhole) and the journal removed. It does nothing when the run saved
// nothing and found no journal.
func (st *copyState) compact(path string) error {
	if st.journal == nil && !st.replayed {
		return nil
	}
	if err := st.writeWhole(path); err != nil {
		return err
	}
	st.replayed = false
	if err := os.Remove(mapJournalPath(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// writeWhole is compact but for the journal's removal: the journal is
// brought up to date, then the state file written with the maps whole,
// and the journal closed. Killed between the state's write and the
// journal's removal, the journal's replay over the state file gives the
// same maps.
//
// The journal is brought up to date first: the changes since the last
// save appended, or, when the run has not opened it (it saved nothing:
// each mailbox failed before its first save, a destination check that
// failed say, or a journal's write failed), the journal written anew
// with the maps whole. It was left as it was in that case, and a journal
// a killed run had left, older than the state file, was replayed over it
// after a kill there: a map the run had reset (a destination mailbox
// created by this run for another source mailbox: mailboxTry.dstFresh,
// with its last UID 0) came back with the old destination UIDVALIDITY,
// and the next run refused the mailbox (errDstChanged) where it should
// have copied it whole; a UID map, never the last UID, the pending group
// or the count (those are the state file's), so no mail is copied twice
// (TestCopyCompactKilledStaleJournal, found by review). Should that write
// fail, the old journal is left: the state file is written whole all the
// same (compact removes the journal next).
func (st *copyState) writeWhole(path string) error {
	st.logMaps(path)
	err := saveJSON(path, st)
	if st.journal != nil {
		if cerr := st.journal.Close(); err == nil {
			err = cerr
		}
		st.journal = nil
	}
	if err != nil {
		return err
	}
	for _, box := range st.Mailboxes {
		box.mapLog = nil
	}
	return nil
}

// loadCopyState reads the state file path into st and replays its map
// journal, when a run killed before its end left one.
//
// An entry an older imapkit recorded under "inbox" is moved to "INBOX"
// (foldInbox) before the replay, and a journal line whose box the state
// does not hold is taken for the entry whose name differs from it only
// in INBOX's case (inboxVariant: "inbox/Sub" folded by
// nameMapper.foldInboxChildren too; of several, the one the fold keeps):
// a run killed in its first
// save after the fold (the journal written anew under "INBOX", the state
// file still under "inbox") lost the UID map, the journal's lines
// skipped as those of a removed entry
// (TestCopyFoldInboxKilledFirstSave, found by review).
func loadCopyState(path string, st *copyState) error {
	if _, err := loadJSON(path, st); err != nil {
		return err
	}
	if st.Mailboxes == nil {
		st.Mailboxes = map[string]*copyBox{}
	}
	st.foldInbox()
	jpath := mapJournalPath(path)
	b, err := readStateFile(jpath, 0)
	if errors.Is(err, os.ErrNotExist) {
		st.foldInboxEntries()
		return nil
	}
	if err != nil {
		return err
	}
	st.replayed = true
	for n := 1; len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // cut short by a kill while it was written
		}
		l := b[:i]
		b = b[i+1:]
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var r mapRecord
		if err := json.Unmarshal(l, &r); err != nil {
			return fmt.Errorf("%s: line %d: %v", printable(jpath), n, err)
		}
		box := st.Mailboxes[r.Box]
		if box == nil {
			box = st.inboxVariant(r.Box)
		}
		if box == nil {
			continue // its entry was removed from the state file
		}
		if r.Set {
			for k := 1; k < len(r.Map); k++ {
				if uint64(r.Map[k].Src) < r.Map[k-1].srcEnd() {
					return fmt.Errorf("%s: line %d: the UID map of %q is not in order", printable(jpath), n, r.Box)
				}
			}
			box.UIDMap, box.DstUIDValidity = r.Map, r.V
			continue
		}
		src, dst := make([]uint32, len(r.Pairs)), make([]uint32, len(r.Pairs))
		for k, p := range r.Pairs {
			src[k], dst[k] = p[0], p[1]
		}
		box.addPairs(r.V, src, dst)
	}
	st.foldInboxEntries()
	return nil
}

// inboxVariant returns the entry of st a journal line under box belongs
// to when the state has no entry box: the one entry whose name is box
// with its leading INBOX in another case ("INBOX/Sub" for "inbox/Sub",
// "INBOX" for "inbox"), or nil when there is none. When there are several
// ("Inbox" and "inbox") and box is the name they are folded to ("INBOX",
// "INBOX/Sub": foldEntries), the line is one the first save after that
// fold wrote for the entry kept, killed before the state file's write: it
// is the one foldEntries keeps, the first (sorted) that records copies,
// else the first. It returned nil then, the line was skipped and the kept
// entry lost its UID map (TestCopyStateInboxVariantsKilledFirstSave,
// found by review). Under another name, nil.
func (st *copyState) inboxVariant(box string) *copyBox {
	key := func(n string) string {
		if len(n) >= 5 && strings.EqualFold(n[:5], "INBOX") {
			return "INBOX" + n[5:]
		}
		return ""
	}
	k := key(box)
	if k == "" {
		return nil
	}
	var found []string
	for name, b := range st.Mailboxes {
		if name != box && key(name) == k && b != nil {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	switch {
	case len(found) == 0:
		return nil
	case len(found) == 1:
		return st.Mailboxes[found[0]]
	case box != k:
		return nil
	}
	for _, name := range found {
		if st.Mailboxes[name].recordsCopies() {
			return st.Mailboxes[name]
		}
	}
	return st.Mailboxes[found[0]]
}
