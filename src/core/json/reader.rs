//! The JSON reader: text to a [`serde_json::Value`], by hand.
//!
//! The same documents accepted, the same values, the same errors (message, position, and
//! whether the text ended too soon) as `serde_json::from_slice::<Value>`: a property test holds
//! the two equal over valid, cut and mangled JSON (`tests` below). Why not serde_json's own:
//! its reader is serde's `Deserializer` with a `Visitor` for `Value`, its string reader and
//! number parser generic over its input kinds, ~11 KB of wasm before wasm-opt in the storage-only
//! module; this is the one reader that module needs (bench/size.md, "A JSON reader of our own").
//! Numbers are serde_json's default algorithm exactly (not `float_roundtrip`): digits into a
//! `u64` while they fit, the rest counted into the exponent, then one multiplication or division
//! by a power of ten.

use serde_json::{Map, Number, Value};

/// Why a text is not JSON, and where: `serde_json::Error`'s message and position.
#[derive(Clone, PartialEq, Eq)]
pub struct ParseError {
    message: &'static str,
    line: usize,
    column: usize,
}

impl ParseError {
    /// What is wrong, without where.
    pub fn message(&self) -> &'static str {
        self.message
    }
    /// The text ended before its JSON did (a cut-off body, not a wrong one).
    pub fn is_eof(&self) -> bool {
        self.message.starts_with("EOF")
    }
    pub fn line(&self) -> usize {
        self.line
    }
    pub fn column(&self) -> usize {
        self.column
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

const EOF_LIST: &str = "EOF while parsing a list";
const EOF_OBJECT: &str = "EOF while parsing an object";
const EOF_STRING: &str = "EOF while parsing a string";
const EOF_VALUE: &str = "EOF while parsing a value";
const COLON: &str = "expected `:`";
const LIST_COMMA: &str = "expected `,` or `]`";
const OBJECT_COMMA: &str = "expected `,` or `}`";
const IDENT: &str = "expected ident";
const VALUE: &str = "expected value";
const ESCAPE: &str = "invalid escape";
const NUMBER: &str = "invalid number";
const RANGE: &str = "number out of range";
const CODE_POINT: &str = "invalid unicode code point";
const CONTROL: &str = "control character (\\u0000-\\u001F) found while parsing a string";
const KEY: &str = "key must be a string";
const LONE: &str = "lone leading surrogate in hex escape";
const HEX_END: &str = "unexpected end of hex escape";
const TRAILING_COMMA: &str = "trailing comma";
const TRAILING: &str = "trailing characters";
const DEPTH: &str = "recursion limit exceeded";

type Result<T> = std::result::Result<T, ParseError>;

/// `input` as one JSON value (whitespace around it allowed, nothing else).
pub fn parse(input: &[u8]) -> Result<Value> {
    parse_pruned(input, &Prune::NONE)
}

/// Keys left out of the value while reading (still read, so still checked: the text is accepted
/// and refused exactly as by [`parse`]): a stream chunk's fields its decoder never reads, which
/// are most of a typical chunk (`core/llm/openai.rs`).
pub struct Prune<'a> {
    /// Left out of the top object.
    pub top: &'a [&'a str],
    /// The top object's key whose array holds the items below.
    pub list: &'a str,
    /// Left out of each object in that array.
    pub item: &'a [&'a str],
}

impl Prune<'static> {
    pub const NONE: Prune<'static> = Prune {
        top: &[],
        list: "",
        item: &[],
    };
}

/// [`parse`], leaving out what `prune` names.
pub fn parse_pruned(input: &[u8], prune: &Prune<'_>) -> Result<Value> {
    let mut p = Parser {
        s: input,
        i: 0,
        depth: 128,
        scratch: Vec::new(),
        prune,
    };
    let value = p.value(Level::Top)?;
    match p.whitespace() {
        Some(_) => Err(p.peek_error(TRAILING)),
        None => Ok(value),
    }
}

/// Where a value is, for [`Prune`].
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Top,
    List,
    Item,
    Other,
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// Nesting left before "recursion limit exceeded" (serde_json's 128).
    depth: u32,
    scratch: Vec<u8>,
    prune: &'a Prune<'a>,
}

impl Parser<'_> {
    /// The error at the position after what was read.
    #[cold]
    fn error(&self, message: &'static str) -> ParseError {
        self.error_at(self.i, message)
    }

    /// The error at the byte peeked at (one past what was read).
    #[cold]
    fn peek_error(&self, message: &'static str) -> ParseError {
        self.error_at((self.i + 1).min(self.s.len()), message)
    }

    #[cold]
    #[inline(never)]
    fn error_at(&self, i: usize, message: &'static str) -> ParseError {
        let before = &self.s[..i];
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        ParseError {
            message,
            line: 1 + before[..start].iter().filter(|&&b| b == b'\n').count(),
            column: i - start,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    /// The first byte after any whitespace, not consumed.
    #[inline(always)]
    fn whitespace(&mut self) -> Option<u8> {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\n' | b'\t' | b'\r' => self.i += 1,
                _ => return Some(b),
            }
        }
        None
    }

    fn value(&mut self, level: Level) -> Result<Value> {
        let Some(peek) = self.whitespace() else {
            return Err(self.peek_error(EOF_VALUE));
        };
        match peek {
            b'n' => self.ident(b"ull", Value::Null),
            b't' => self.ident(b"rue", Value::Bool(true)),
            b'f' => self.ident(b"alse", Value::Bool(false)),
            b'-' => {
                self.i += 1;
                self.number(false)
            }
            b'0'..=b'9' => self.number(true),
            b'"' => {
                self.i += 1;
                Ok(Value::String(self.string()?))
            }
            b'[' | b'{' => {
                self.depth -= 1;
                if self.depth == 0 {
                    return Err(self.peek_error(DEPTH));
                }
                self.i += 1;
                let value = if peek == b'[' {
                    self.list(level)
                } else {
                    self.object(level)
                };
                self.depth += 1;
                value
            }
            _ => Err(self.peek_error(VALUE)),
        }
    }

    fn ident(&mut self, rest: &[u8], value: Value) -> Result<Value> {
        self.i += 1;
        for &expected in rest {
            match self.next() {
                None => return Err(self.error(EOF_VALUE)),
                Some(b) if b != expected => return Err(self.error(IDENT)),
                Some(_) => {}
            }
        }
        Ok(value)
    }

    fn list(&mut self, level: Level) -> Result<Value> {
        let items_level = if level == Level::List {
            Level::Item
        } else {
            Level::Other
        };
        let mut items = Vec::new();
        loop {
            let peek = match self.whitespace() {
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                Some(b',') if !items.is_empty() => {
                    self.i += 1;
                    self.whitespace()
                }
                Some(b) if items.is_empty() => Some(b),
                Some(_) => return Err(self.peek_error(LIST_COMMA)),
                None => return Err(self.peek_error(EOF_LIST)),
            };
            match peek {
                Some(b']') => return Err(self.peek_error(TRAILING_COMMA)),
                Some(_) => items.push(self.value(items_level)?),
                None => return Err(self.peek_error(EOF_VALUE)),
            }
        }
    }

    fn object(&mut self, level: Level) -> Result<Value> {
        let left_out: &[&str] = match level {
            Level::Top => self.prune.top,
            Level::Item => self.prune.item,
            _ => &[],
        };
        let mut map = Map::new();
        let mut first = true;
        loop {
            let peek = match self.whitespace() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(map));
                }
                Some(b',') if !first => {
                    self.i += 1;
                    self.whitespace()
                }
                Some(b) if first => Some(b),
                Some(_) => return Err(self.peek_error(OBJECT_COMMA)),
                None => return Err(self.peek_error(EOF_OBJECT)),
            };
            first = false;
            let key = match peek {
                Some(b'"') => {
                    self.i += 1;
                    self.string()?
                }
                Some(b'}') => return Err(self.peek_error(TRAILING_COMMA)),
                Some(_) => return Err(self.peek_error(KEY)),
                None => return Err(self.peek_error(EOF_VALUE)),
            };
            match self.whitespace() {
                Some(b':') => self.i += 1,
                Some(_) => return Err(self.peek_error(COLON)),
                None => return Err(self.peek_error(EOF_OBJECT)),
            }
            let inner = if level == Level::Top && key == self.prune.list {
                Level::List
            } else {
                Level::Other
            };
            let value = self.value(inner)?;
            if !left_out.contains(&key.as_str()) {
                map.insert(key, value);
            }
        }
    }

    /// Past the bytes a string holds as they are, to the next `"`, `\\` or control character
    /// (or the end): eight bytes at a time, since a chunk of a stream is mostly its text.
    fn skip_plain(&mut self) {
        const ONES: u64 = u64::MAX / 255;
        while let Some(chunk) = self.s.get(self.i..self.i + 8) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let w = u64::from_le_bytes(bytes);
            let control = w.wrapping_sub(ONES * 0x20) & !w;
            let q = w ^ (ONES * b'"' as u64);
            let quote = q.wrapping_sub(ONES) & !q;
            let b = w ^ (ONES * b'\\' as u64);
            let backslash = b.wrapping_sub(ONES) & !b;
            if (control | quote | backslash) & (ONES << 7) != 0 {
                break;
            }
            self.i += 8;
        }
        while let Some(&b) = self.s.get(self.i) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                break;
            }
            self.i += 1;
        }
    }

    /// A string's contents, the opening quote read.
    fn string(&mut self) -> Result<String> {
        let mut start = self.i;
        self.skip_plain();
        if self.s.get(self.i) == Some(&b'"') {
            // No escape: the text as it is, one copy.
            let bytes = &self.s[start..self.i];
            self.i += 1;
            return match std::str::from_utf8(bytes) {
                Ok(s) => Ok(s.to_owned()),
                Err(e) => Err(self.invalid_utf8(bytes.len() - e.valid_up_to())),
            };
        }
        self.scratch.clear();
        loop {
            self.skip_plain();
            let Some(&b) = self.s.get(self.i) else {
                return Err(self.error(EOF_STRING));
            };
            match b {
                b'"' => {
                    self.scratch.extend_from_slice(&self.s[start..self.i]);
                    self.i += 1;
                    return match std::str::from_utf8(&self.scratch) {
                        Ok(s) => Ok(s.to_owned()),
                        Err(e) => Err(self.invalid_utf8(self.scratch.len() - e.valid_up_to())),
                    };
                }
                b'\\' => {
                    self.scratch.extend_from_slice(&self.s[start..self.i]);
                    self.i += 1;
                    self.escape()?;
                    start = self.i;
                }
                // `skip_plain` stops only at a quote, a backslash or a control character.
                _ => {
                    self.i += 1;
                    return Err(self.error(CONTROL));
                }
            }
        }
    }

    /// A string that is not UTF-8, the closing quote read: serde_json points back from it by
    /// the bytes from the first invalid one (approximately, after escapes).
    #[cold]
    fn invalid_utf8(&self, back: usize) -> ParseError {
        let mut err = self.error(CODE_POINT);
        err.column = err.column.saturating_sub(back);
        err
    }

    /// One escape, the backslash read, onto the scratch buffer.
    fn escape(&mut self) -> Result<()> {
        let Some(b) = self.next() else {
            return Err(self.error(EOF_STRING));
        };
        let byte = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(),
            _ => return Err(self.error(ESCAPE)),
        };
        self.scratch.push(byte);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32> {
        let Some(digits) = self.s.get(self.i..self.i + 4) else {
            self.i = self.s.len();
            return Err(self.error(EOF_STRING));
        };
        self.i += 4;
        let mut n = 0;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.error(ESCAPE)),
            };
            n = n * 16 + v as u32;
        }
        Ok(n)
    }

    /// `\u` read: one code point, a surrogate pair as two escapes.
    fn unicode_escape(&mut self) -> Result<()> {
        let n = self.hex4()?;
        let c = match n {
            0xDC00..=0xDFFF => return Err(self.error(LONE)),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.peek() {
                        None => return Err(self.error(EOF_STRING)),
                        Some(b) => {
                            self.i += 1;
                            if b != expected {
                                return Err(self.error(HEX_END));
                            }
                        }
                    }
                }
                let n2 = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&n2) {
                    return Err(self.error(LONE));
                }
                (((n - 0xD800) << 10) | (n2 - 0xDC00)) + 0x1_0000
            }
            _ => n,
        };
        let c = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0; 4];
        self.scratch
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    /// A number, its sign read (`positive` false after a `-`). serde_json's steps, in its order
    /// (`parse_integer`, `parse_long_integer`, `parse_decimal`, `parse_exponent`), so that the
    /// same digits give the same value: integer digits into a `u64` while they fit, the rest
    /// counted into the exponent; fraction digits into it while they fit, the rest ignored.
    fn number(&mut self, positive: bool) -> Result<Value> {
        let Some(first) = self.next() else {
            return Err(self.error(EOF_VALUE));
        };
        let mut significand: u64 = match first {
            b'0' => {
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.peek_error(NUMBER));
                }
                0
            }
            b'1'..=b'9' => (first - b'0') as u64,
            _ => return Err(self.error(NUMBER)),
        };
        let mut exponent: i32 = 0;
        let mut long = false;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            self.i += 1;
            let digit = (c - b'0') as u64;
            if long || overflows(significand, digit) {
                long = true;
                exponent = exponent.wrapping_add(1);
            } else {
                significand = significand * 10 + digit;
            }
        }
        match self.peek() {
            Some(b'.') => {
                self.i += 1;
                let mut fraction: i32 = 0;
                let mut ignored = false;
                while let Some(c @ b'0'..=b'9') = self.peek() {
                    let digit = (c - b'0') as u64;
                    if ignored || overflows(significand, digit) {
                        ignored = true;
                    } else {
                        significand = significand * 10 + digit;
                        fraction = fraction.wrapping_sub(1);
                    }
                    self.i += 1;
                }
                if fraction == 0 && !ignored {
                    return Err(match self.peek() {
                        Some(_) => self.peek_error(NUMBER),
                        None => self.peek_error(EOF_VALUE),
                    });
                }
                exponent = exponent.wrapping_add(fraction);
            }
            Some(b'e' | b'E') => {}
            _ if !long => {
                return Ok(if positive {
                    Value::Number(Number::from(significand))
                } else {
                    let neg = (significand as i64).wrapping_neg();
                    if neg >= 0 {
                        // -0, or below i64::MIN: a float, as serde_json makes it.
                        float_value(-(significand as f64))
                    } else {
                        Value::Number(Number::from(neg))
                    }
                });
            }
            _ => {}
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            let positive_exp = match self.peek() {
                Some(b'+') => {
                    self.i += 1;
                    true
                }
                Some(b'-') => {
                    self.i += 1;
                    false
                }
                _ => true,
            };
            let mut exp: i32 = match self.next() {
                None => return Err(self.error(EOF_VALUE)),
                Some(c @ b'0'..=b'9') => (c - b'0') as i32,
                Some(_) => return Err(self.error(NUMBER)),
            };
            while let Some(c @ b'0'..=b'9') = self.peek() {
                self.i += 1;
                let digit = (c - b'0') as i32;
                if exp >= i32::MAX / 10 && (exp > i32::MAX / 10 || digit > i32::MAX % 10) {
                    // An exponent past i32: zero for a zero significand or a negative
                    // exponent, out of range otherwise.
                    if significand != 0 && positive_exp {
                        return Err(self.error(RANGE));
                    }
                    while let Some(b'0'..=b'9') = self.peek() {
                        self.i += 1;
                    }
                    return Ok(float_value(if positive { 0.0 } else { -0.0 }));
                }
                exp = exp * 10 + digit;
            }
            exponent = if positive_exp {
                exponent.saturating_add(exp)
            } else {
                exponent.saturating_sub(exp)
            };
        }
        let f = self.float(significand, exponent)?;
        Ok(float_value(if positive { f } else { -f }))
    }

    /// `significand × 10^exponent` as serde_json computes it (one multiplication or division
    /// by a power of ten from its table, the exponent brought into range by 1e308 first).
    fn float(&self, significand: u64, mut exponent: i32) -> Result<f64> {
        let mut f = significand as f64;
        loop {
            match POW10.get(exponent.unsigned_abs() as usize) {
                Some(&pow) => {
                    if exponent >= 0 {
                        f *= pow;
                        if f.is_infinite() {
                            return Err(self.error(RANGE));
                        }
                    } else {
                        f /= pow;
                    }
                    return Ok(f);
                }
                None => {
                    if f == 0.0 {
                        return Ok(f);
                    }
                    if exponent >= 0 {
                        return Err(self.error(RANGE));
                    }
                    f /= 1e308;
                    exponent += 308;
                }
            }
        }
    }
}

/// The next `significand * 10 + digit` would not fit a `u64`.
fn overflows(significand: u64, digit: u64) -> bool {
    significand >= u64::MAX / 10 && (significand > u64::MAX / 10 || digit > u64::MAX % 10)
}

fn float_value(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

pub(super) static POW10: [f64; 309] = [
    1e000, 1e001, 1e002, 1e003, 1e004, 1e005, 1e006, 1e007, 1e008, 1e009, //
    1e010, 1e011, 1e012, 1e013, 1e014, 1e015, 1e016, 1e017, 1e018, 1e019, //
    1e020, 1e021, 1e022, 1e023, 1e024, 1e025, 1e026, 1e027, 1e028, 1e029, //
    1e030, 1e031, 1e032, 1e033, 1e034, 1e035, 1e036, 1e037, 1e038, 1e039, //
    1e040, 1e041, 1e042, 1e043, 1e044, 1e045, 1e046, 1e047, 1e048, 1e049, //
    1e050, 1e051, 1e052, 1e053, 1e054, 1e055, 1e056, 1e057, 1e058, 1e059, //
    1e060, 1e061, 1e062, 1e063, 1e064, 1e065, 1e066, 1e067, 1e068, 1e069, //
    1e070, 1e071, 1e072, 1e073, 1e074, 1e075, 1e076, 1e077, 1e078, 1e079, //
    1e080, 1e081, 1e082, 1e083, 1e084, 1e085, 1e086, 1e087, 1e088, 1e089, //
    1e090, 1e091, 1e092, 1e093, 1e094, 1e095, 1e096, 1e097, 1e098, 1e099, //
    1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109, //
    1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119, //
    1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129, //
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139, //
    1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149, //
    1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159, //
    1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169, //
    1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179, //
    1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189, //
    1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199, //
    1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209, //
    1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219, //
    1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229, //
    1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239, //
    1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249, //
    1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259, //
    1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269, //
    1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279, //
    1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289, //
    1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299, //
    1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
];

#[cfg(test)]
mod tests {
    //! Held to serde_json's own reader (`serde_json::from_slice::<Value>`, the oracle): the same
    //! value (compared by its text too, so `1` and `1.0`, `0.0` and `-0.0` differ) or the same
    //! error (message, line, column, end of input) for every input.
    use super::*;
    use proptest::prelude::*;

    fn oracle(input: &[u8]) -> std::result::Result<Value, serde_json::Error> {
        serde_json::from_slice(input)
    }

    fn agree(input: &[u8]) -> std::result::Result<(), String> {
        let ours = parse(input);
        let theirs = oracle(input);
        let shown = String::from_utf8_lossy(input).into_owned();
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => {
                let (ta, tb) = (
                    serde_json::to_string(a).unwrap(),
                    serde_json::to_string(b).unwrap(),
                );
                if a == b && ta == tb {
                    Ok(())
                } else {
                    Err(format!("{shown:?}: ours {ta}, serde_json {tb}"))
                }
            }
            (Err(a), Err(b)) => {
                if a.to_string() == b.to_string() && a.is_eof() == b.is_eof() {
                    Ok(())
                } else {
                    Err(format!(
                        "{shown:?}: ours {a} (eof {}), serde_json {b} (eof {})",
                        a.is_eof(),
                        b.is_eof()
                    ))
                }
            }
            (Ok(a), Err(b)) => Err(format!("{shown:?}: ours Ok({a}), serde_json {b}")),
            (Err(a), Ok(b)) => Err(format!("{shown:?}: ours {a}, serde_json Ok({b})")),
        }
    }

    #[test]
    fn agrees_with_serde_json_on_the_edge_cases() {
        let long = "9".repeat(400);
        let deep_ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        let deep_bad = format!("{}{}", "[".repeat(128), "]".repeat(128));
        let deep_obj = "{\"a\":".repeat(130);
        let cases: Vec<String> = [
            "",
            " ",
            "\n\n  ",
            "null",
            "true",
            "false",
            "nul",
            "nulx",
            "tru",
            "fals",
            "n",
            "x",
            "0",
            "-0",
            "-",
            "--1",
            "00",
            "01",
            "-01",
            "0.",
            "0.e1",
            ".5",
            "1.5",
            "-1.5",
            "1e5",
            "1E+5",
            "1e-5",
            "1e",
            "1e+",
            "1e-",
            "1ex",
            "1.x",
            "0x10",
            "1.0",
            "-0.0",
            "123abc",
            "18446744073709551615",
            "18446744073709551616",
            "18446744073709551616.5",
            "-9223372036854775808",
            "-9223372036854775809",
            "1e308",
            "1e309",
            "-1e309",
            "1e-400",
            "0e99999999999",
            "1e99999999999",
            "1e-99999999999",
            "0.000000000000000000000000001e-300",
            "123456789012345678901234567890",
            "1.23456789012345678901234567890",
            "184467440737095516150.1",
            "1844674407370955161.5e3",
            "4.9e-324",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "[]",
            "[ ]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[1,2",
            "[",
            "]",
            "{}",
            "{ }",
            "{\"a\":1,}",
            "{,}",
            "{\"a\" 1}",
            "{\"a\":}",
            "{1:2}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":1",
            "{\"a\"",
            "{\"a\":",
            "{",
            "}",
            "{\"a\":1,\"a\":2}",
            "\"",
            "\"abc",
            "\"a\\\"b\"",
            "\"\\u00e9\"",
            "\"\\u00E9\"",
            "\"\\uD83D\\uDE00\"",
            "\"\\uD83D\"",
            "\"\\uD83Dx\"",
            "\"\\uD83D\\n\"",
            "\"\\uD83D\\uD83D\"",
            "\"\\uDE00\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"\\x\"",
            "\"\\\"",
            "\"\\",
            "\"\t\"",
            "\"\u{1}\"",
            "\"\u{7f}\"",
            "\"é😀\"",
            "1 2",
            "[] x",
            "{}\n\n  }",
            "[1,\n2,\n3 4]",
            "\n\n\"\\q\"",
            "[\"a\",{\"b\":[null,true,false,-1.5e-3]}]",
            "  [1]  ",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            long.clone(),
            format!("{long}.5"),
            format!("0.{long}"),
            format!("1e{long}"),
            format!("-{long}"),
        ])
        .chain([deep_ok, deep_bad, deep_obj])
        .collect();
        for case in &cases {
            agree(case.as_bytes()).unwrap();
        }
        for bytes in [
            &b"\"\xff\""[..],
            b"\"\xc3\"",
            b"\"a\xe2\x82\"",
            b"\xef\xbb\xbf1",
            b"\"\xed\xa0\x80\"",
        ] {
            agree(bytes).unwrap();
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "(?s).{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("(?s).{0,6}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Bytes that matter to a JSON reader, to mangle texts with.
    const NOISE: &[u8] = b"{}[]\",:\\/ \n\t\r0123456789-+.eEtrufalsn\x00\x1f\x7f\xc3\xa9\xff";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn reads_what_serde_json_writes(v in json_value(), pretty in any::<bool>()) {
            let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { serde_json::to_string(&v).unwrap() };
            prop_assert_eq!(agree(text.as_bytes()), Ok(()));
        }

        #[test]
        fn fails_as_serde_json_does_on_mangled_text(
            v in json_value(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<prop::sample::Index>()), 1..4),
        ) {
            let mut bytes = serde_json::to_string(&v).unwrap().into_bytes();
            for (at, kind, noise) in edits {
                let b = *noise.get(NOISE);
                match kind {
                    0 if !bytes.is_empty() => bytes.truncate(at.index(bytes.len())),
                    1 => bytes.insert(at.index(bytes.len() + 1), b),
                    _ if !bytes.is_empty() => {
                        let i = at.index(bytes.len());
                        bytes[i] = b;
                    }
                    _ => bytes.push(b),
                }
            }
            prop_assert_eq!(agree(&bytes), Ok(()));
        }

        #[test]
        fn reads_numbers_as_serde_json_does(
            text in "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{0,24})?([eE][+-]?[0-9]{0,12})?",
        ) {
            prop_assert_eq!(agree(text.as_bytes()), Ok(()));
        }

        #[test]
        fn agrees_on_any_short_noise(bytes in proptest::collection::vec(proptest::sample::select(NOISE.to_vec()), 0..12)) {
            prop_assert_eq!(agree(&bytes), Ok(()));
        }
    }
}
