package scenarios

import "bytes"

// rawScan is a fast pass over the bytes of a scenario file, before the
// lexer, that finds a file nested too deeply, with too many keys in a
// mapping or too many documents (see fileLimits), in
// time proportional to the bytes up to the problem: 100,000 nested "[" are
// refused after reading 65 bytes. It follows YAML's structure (quoted and
// block scalars, comments, flow and block collections) closely enough that
// it never counts more than the parser would for a real scenario; where
// it counts less, checkTokens, which follows the lexer's tokens exactly,
// catches what it missed. Not safe for concurrent use.
type rawScan struct {
	lim   fileLimits
	data  []byte
	ls    int    // offset of the start of the current line
	block levels // open block collections
	flow  int    // open flow collections
	docs  int    // document headers seen
	// A literal or folded block scalar is open: its lines are those
	// indented more than scalarIndent.
	inScalar     bool
	scalarIndent int
	// A plain scalar may go on, on the lines indented more than plainIndent:
	// the column of the key or "-" it is the value of (ctx, as the line is
	// scanned).
	inPlain     bool
	plainIndent int
	ctx         int
	err         *limitError
}

// scanRaw returns where data first crosses a limit, or nil.
func (l fileLimits) scanRaw(data []byte) *limitError {
	s := rawScan{lim: l, data: data}
	for i := 0; i < len(data) && s.err == nil; {
		i = s.line(i)
	}
	return s.err
}

func (s *rawScan) fail(off int, msg string) int {
	if s.err == nil {
		s.err = &limitError{off: off, msg: msg}
	}
	return len(s.data)
}

// line scans the line that starts at i and returns where the next one
// starts (later, when a flow collection or a quoted scalar spans lines).
func (s *rawScan) line(i int) int {
	s.ls = i
	j := i
	for j < len(s.data) && s.data[j] == ' ' {
		j++
	}
	indent := j - i
	if j == len(s.data) {
		return j
	}
	c := s.data[j]
	switch {
	case c == '\n' || c == '\r' || c == '\t':
		return s.eol(j) // blank, or left to the lexer to refuse
	case s.inScalar && indent > s.scalarIndent, s.inPlain && indent > s.plainIndent:
		return s.eol(j)
	}
	s.inScalar, s.inPlain = false, false
	switch {
	case c == '#', indent == 0 && c == '%':
		return s.eol(j) // comment, directive
	case indent == 0 && s.marker(j, "---"):
		s.block = s.block[:0]
		s.docs++
		if s.docs > s.lim.docs {
			return s.fail(j, s.lim.docsMsg())
		}
		return s.node(j+3, 0)
	case indent == 0 && s.marker(j, "..."):
		s.block = s.block[:0]
		return s.eol(j)
	}
	if s.block.enter(indent) > s.lim.nesting {
		return s.fail(j, s.lim.depthMsg())
	}
	return s.node(j, indent)
}

// node scans block-context tokens from j, where a node may start, to the
// end of the line, and returns where the next line starts.
func (s *rawScan) node(j, indent int) int {
	start, keyCol := true, -1
	s.ctx = indent
	for s.err == nil {
		j = s.space(j)
		if j >= len(s.data) {
			return j
		}
		switch c := s.data[j]; {
		case c == '\n':
			return j + 1
		case c == '#':
			return s.eol(j)
		case !start:
			if c != ':' || !s.sepAt(j+1) {
				return s.eol(j) // text after a node: the parser judges it
			}
			// A quoted, flow or alias key.
			if keyCol >= 0 && s.block.key(keyCol) > s.lim.keys {
				return s.fail(j, s.lim.keysMsg())
			}
			s.ctx = keyCol
			j, start = j+1, true
		default:
			var done bool
			j, start, keyCol, done = s.nodeAt(j, indent)
			if done {
				return j
			}
		}
	}
	return len(s.data)
}

// nodeAt scans what starts a node at j, on a line indented indent. It
// returns where to go on, whether a node may start there, the column of
// the node just scanned when a ':' after it would make it a key (else -1),
// and whether the line is done (j is then where the next one starts).
func (s *rawScan) nodeAt(j, indent int) (next int, start bool, keyCol int, done bool) {
	c, col := s.data[j], j-s.ls
	switch {
	case (c == '-' || c == '?') && s.sepAt(j+1):
		// "- - x", "- key: v": the node after the indicator is a level.
		s.ctx = col
		j = s.space(j + 1)
		if j < len(s.data) && s.data[j] != '\n' && s.data[j] != '#' && s.block.enter(j-s.ls) > s.lim.nesting {
			return s.fail(j, s.lim.depthMsg()), false, -1, true
		}
		return j, true, -1, false
	case c == '[' || c == '{':
		return s.flowScan(j), false, col, false
	case c == '"' || c == '\'':
		return s.quoted(j), false, col, false
	case c == '|' || c == '>':
		s.inScalar, s.scalarIndent = true, indent
		return s.eol(j), false, -1, true
	case c == '&' || c == '!':
		return s.word(j), true, -1, false // an anchor or a tag: the node follows
	case c == '*':
		return s.word(j), false, col, false
	}
	k, key := s.plain(j)
	if !key {
		// It may go on, on lines indented more than its key or "-", or
		// when it starts its line, more than the collection it is in (a
		// document that is one scalar: on any line).
		s.inPlain, s.plainIndent = true, s.ctx
		if col == indent && s.ctx == indent {
			s.plainIndent = -1
			if len(s.block) > 1 {
				s.plainIndent = s.block[len(s.block)-2].col
			}
		}
		return k, false, -1, false
	}
	if s.block.key(col) > s.lim.keys {
		return s.fail(j, s.lim.keysMsg()), false, -1, true
	}
	s.ctx = col
	return k + 1, true, -1, false
}

// plain scans a plain scalar in block context from j: it returns where it
// ends, and whether it ends at the ':' of a key.
func (s *rawScan) plain(j int) (int, bool) {
	for k := j; k < len(s.data); k++ {
		switch c := s.data[k]; {
		case c == '\n':
			return k, false
		case c == ':' && s.sepAt(k+1):
			return k, true
		case c == '#' && k > j && isBlank(s.data[k-1]):
			return k, false
		}
	}
	return len(s.data), false
}

// flowScan scans the flow collection opening at j and returns the offset
// after it closes.
func (s *rawScan) flowScan(j int) int {
	// tokStart: a node may start here; afterNode: a quoted scalar or a
	// collection just ended, so ':' is an indicator even without a space.
	tokStart, afterNode := true, false
	for k := j; k < len(s.data); k++ {
		switch c := s.data[k]; c {
		case '[', '{':
			s.flow++
			if len(s.block)+s.flow > s.lim.nesting {
				return s.fail(k, s.lim.depthMsg())
			}
			tokStart, afterNode = true, false
		case ']', '}':
			s.flow--
			if s.flow <= 0 {
				s.flow = 0
				return k + 1
			}
			tokStart, afterNode = false, true
		case ',':
			tokStart, afterNode = true, false
		case ':':
			tokStart = afterNode || s.sepAt(k+1) || isFlowIndicator(s.byteAt(k+1))
			afterNode = false
		case '\n':
			s.ls = k + 1
		case ' ', '\t', '\r':
		default:
			k = s.flowOther(k, &tokStart, &afterNode) - 1
		}
	}
	return len(s.data)
}

// flowOther scans from k, in a flow collection, a character that is not
// an indicator of structure: a quoted scalar, an anchor, tag or alias, a
// comment or plain text. It returns the offset after what it scanned.
func (s *rawScan) flowOther(k int, tokStart, afterNode *bool) int {
	c := s.data[k]
	switch {
	case (c == '"' || c == '\'') && *tokStart:
		*tokStart, *afterNode = false, true
		return s.quoted(k)
	case (c == '&' || c == '!') && *tokStart:
		return s.word(k)
	case c == '*' && *tokStart:
		*tokStart, *afterNode = false, true
		return s.word(k)
	case c == '#' && (isBlank(s.data[k-1]) || s.data[k-1] == '\n'):
		e := s.eol(k)
		s.ls = e
		return e
	}
	*tokStart, *afterNode = false, false
	return k + 1
}

// quoted scans the quoted scalar opening at j, which may span lines, and
// returns the offset after its closing quote.
func (s *rawScan) quoted(j int) int {
	q := s.data[j]
	for k := j + 1; k < len(s.data); k++ {
		switch s.data[k] {
		case '\n':
			s.ls = k + 1
		case '\\':
			if q == '"' && k+1 < len(s.data) {
				k++
				if s.data[k] == '\n' {
					s.ls = k + 1
				}
			}
		case q:
			if q == '\'' && k+1 < len(s.data) && s.data[k+1] == '\'' {
				k++ // '' is a quote inside single quotes
				continue
			}
			return k + 1
		}
	}
	return len(s.data)
}

// word returns the offset after the run of non-blank characters at j.
func (s *rawScan) word(j int) int {
	for j < len(s.data) && !isBlank(s.data[j]) && s.data[j] != '\n' {
		j++
	}
	return j
}

// space returns the offset after the spaces and tabs at j.
func (s *rawScan) space(j int) int {
	for j < len(s.data) && isBlank(s.data[j]) {
		j++
	}
	return j
}

// eol returns the offset of the line after the one holding j.
func (s *rawScan) eol(j int) int {
	if k := bytes.IndexByte(s.data[j:], '\n'); k >= 0 {
		return j + k + 1
	}
	return len(s.data)
}

// marker reports whether the document marker m ("---" or "...") is at j.
func (s *rawScan) marker(j int, m string) bool {
	return bytes.HasPrefix(s.data[j:], []byte(m)) && s.sepAt(j+len(m))
}

// sepAt reports whether a separator (blank, line end or end of file) is at k.
func (s *rawScan) sepAt(k int) bool {
	return k >= len(s.data) || isBlank(s.data[k]) || s.data[k] == '\n'
}

func (s *rawScan) byteAt(k int) byte {
	if k < len(s.data) {
		return s.data[k]
	}
	return 0
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }
