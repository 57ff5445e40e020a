namespace VqganClip.Clipart;

/// <summary>
/// Reads a caption or user prompt of the clipart grammar into what it asserts:
/// <code>
/// prompt   := prefix? object tail? ("and" object position?)? modifiers "."?
/// object   := article? size? colour? kind
/// tail     := position ("of" background-noun)? | relation object
/// modifier := position | background        (in any order, each at most once)
/// </code>
/// Phrases come from <see cref="CaptionGrammar"/>; at each point the longest matching phrase wins
/// ("under a blue sky" is a background, "under" a relation). Hand-written recursive descent: the
/// grammar is tiny and the errors must say which word was unexpected and what would have fitted.
/// </summary>
public static class CaptionParser
{
    private sealed record Token(string Text, int Start);

    private enum Slot { Position, Relation, Background, BackgroundNoun, Size, Color, Kind, Article, Prefix }

    private sealed record Phrase(string[] Words, Slot Slot, int Value);

    private static readonly Phrase[] Phrases = BuildPhrases();

    /// <summary>Parses a prompt; throws <see cref="CaptionParseException"/> naming the word and position when it is outside the grammar.</summary>
    public static CaptionSpec Parse(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return new Parser(prompt, Tokenize(prompt)).Run();
    }

    /// <summary>Parses, or returns false with the parse error.</summary>
    public static bool TryParse(string prompt, out CaptionSpec? spec, out CaptionParseException? error)
    {
        try
        {
            spec = Parse(prompt);
            error = null;
            return true;
        }
        catch (CaptionParseException e)
        {
            spec = null;
            error = e;
            return false;
        }
    }

    private static List<Token> Tokenize(string prompt)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < prompt.Length)
        {
            if (char.IsWhiteSpace(prompt[i]) || prompt[i] is ',' or '.' or '!' or ';')
            {
                i++;
                continue;
            }
            int start = i;
            while (i < prompt.Length && !char.IsWhiteSpace(prompt[i]) && prompt[i] is not (',' or '.' or '!' or ';')) i++;
            tokens.Add(new Token(prompt[start..i].ToLowerInvariant(), start));
        }
        return tokens;
    }

    private static Phrase[] BuildPhrases()
    {
        var list = new List<Phrase>();
        void Add<T>(IReadOnlyDictionary<T, string[]> table, Slot slot) where T : struct, Enum
        {
            foreach (var (key, phrases) in table)
                foreach (var p in phrases)
                    list.Add(new Phrase(p.Split(' '), slot, Convert.ToInt32(key)));
        }
        Add(CaptionGrammar.PositionPhrases, Slot.Position);
        Add(CaptionGrammar.RelationPhrases, Slot.Relation);
        Add(CaptionGrammar.BackgroundPhrases, Slot.Background);
        Add(CaptionGrammar.BackgroundNouns, Slot.BackgroundNoun);
        Add(CaptionGrammar.SizeWords, Slot.Size);
        Add(CaptionGrammar.ColorWords, Slot.Color);
        Add(CaptionGrammar.KindWords, Slot.Kind);
        foreach (var a in CaptionGrammar.Articles) list.Add(new Phrase([a], Slot.Article, 0));
        foreach (var p in CaptionGrammar.Prefixes) list.Add(new Phrase(p.Split(' '), Slot.Prefix, 0));
        // Longest first, so the first match found is the longest.
        return list.OrderByDescending(p => p.Words.Length).ToArray();
    }

    private static string Expected(params Slot[] slots) => string.Join(", or ", slots.Select(s => s switch
    {
        Slot.Kind => $"an object kind ({string.Join(", ", Vocabulary.Kinds.Select(k => k.Word()))})",
        Slot.Color => $"a colour ({string.Join(", ", Vocabulary.Colors.Select(c => c.Word()))})",
        Slot.Size => "a size (small, big)",
        Slot.Position => "a position (on the left, on the right, at the top, at the bottom, in the middle)",
        Slot.Relation => "a relation (above, below, to the left of, to the right of)",
        Slot.Background => "a background (on a white background, in the sky, at night, on grass, on sand)",
        Slot.BackgroundNoun => "a background (a white background, the sky, the night sky, the grass, the beach)",
        _ => s.ToString().ToLowerInvariant(),
    }));

    private sealed class Parser(string prompt, List<Token> tokens)
    {
        private int _pos;
        private readonly List<ObjectClaim> _objects = [];
        private SpatialRelation? _relation;
        private SceneBackground? _background;

        public CaptionSpec Run()
        {
            if (tokens.Count == 0)
                throw new CaptionParseException(prompt, 0, 0, null, "the prompt is empty; expected " + Expected(Slot.Kind));
            TryMatch(Slot.Prefix, out _);
            _objects.Add(ParseObject());

            bool joined = false;
            while (_pos < tokens.Count)
            {
                if (TryMatch(Slot.Position, out int position))
                {
                    SetPosition((ScenePosition)position);
                    if (Peek() == "of")
                    {
                        _pos++;
                        if (!TryMatch(Slot.BackgroundNoun, out int noun))
                            throw Error(Expected(Slot.BackgroundNoun) + " after 'of'");
                        SetBackground((SceneBackground)noun);
                    }
                }
                else if (TryMatch(Slot.Background, out int background))
                {
                    SetBackground((SceneBackground)background);
                }
                else if (_objects.Count == 1 && TryMatch(Slot.Relation, out int relation))
                {
                    _relation = (SpatialRelation)relation;
                    _objects.Add(ParseObject());
                }
                else if (_objects.Count == 1 && !joined && Peek() == CaptionGrammar.Conjunction)
                {
                    _pos++;
                    joined = true;
                    _objects.Add(ParseObject());
                }
                else
                {
                    var expected = _objects.Count == 1
                        ? Expected(Slot.Position, Slot.Relation, Slot.Background) + ", or 'and' and a second object"
                        : Expected(Slot.Position, Slot.Background) + " (a scene holds at most two objects)";
                    throw Error(expected);
                }
            }
            return new CaptionSpec(prompt, _objects, _relation, _background);
        }

        private ObjectClaim ParseObject()
        {
            TryMatch(Slot.Article, out _);
            ObjectSize? size = TryMatch(Slot.Size, out int s) ? (ObjectSize)s : null;
            ClipartColor? color = TryMatch(Slot.Color, out int c) ? (ClipartColor)c : null;
            if (size is null && color is not null && TryMatch(Slot.Size, out s))
                size = (ObjectSize)s; // "a red big circle" reads fine too
            if (!TryMatch(Slot.Kind, out int kind))
            {
                var missing = new List<Slot>();
                if (size is null) missing.Add(Slot.Size);
                if (color is null) missing.Add(Slot.Color);
                missing.Add(Slot.Kind);
                throw Error(Expected([.. missing]));
            }
            return new ObjectClaim((ObjectKind)kind, color, size);
        }

        private void SetPosition(ScenePosition position)
        {
            var last = _objects[^1];
            if (last.Position is not null)
                throw Error($"the {last.Kind.Word()} already has a position ({last.Position.Value.Phrase()})", back: _phraseStart);
            if (_relation is not null)
                throw Error("a position cannot be combined with a relation between the two objects", back: _phraseStart);
            _objects[^1] = last with { Position = position };
        }

        private void SetBackground(SceneBackground background)
        {
            if (_background is not null)
                throw Error($"the background was already given ({_background})", back: _phraseStart);
            _background = background;
        }

        private int _phraseStart;

        private string? Peek() => _pos < tokens.Count ? tokens[_pos].Text : null;

        private bool TryMatch(Slot slot, out int value)
        {
            foreach (var phrase in Phrases)
            {
                if (phrase.Slot != slot || _pos + phrase.Words.Length > tokens.Count) continue;
                bool ok = true;
                for (int k = 0; k < phrase.Words.Length && ok; k++)
                    ok = tokens[_pos + k].Text == phrase.Words[k];
                if (!ok) continue;
                // Prefer a longer phrase of another kind starting here ("under a blue sky" over "under").
                if (LongerMatchOfOtherSlot(slot, phrase.Words.Length)) continue;
                _phraseStart = _pos;
                _pos += phrase.Words.Length;
                value = phrase.Value;
                return true;
            }
            value = 0;
            return false;
        }

        private bool LongerMatchOfOtherSlot(Slot slot, int length)
        {
            // Only the tail slots compete with each other; object words never overlap them.
            if (slot is not (Slot.Position or Slot.Relation or Slot.Background)) return false;
            foreach (var phrase in Phrases)
            {
                if (phrase.Words.Length <= length) break; // sorted longest first
                if (phrase.Slot == slot || phrase.Slot is not (Slot.Position or Slot.Relation or Slot.Background)) continue;
                if (_pos + phrase.Words.Length > tokens.Count) continue;
                bool ok = true;
                for (int k = 0; k < phrase.Words.Length && ok; k++)
                    ok = tokens[_pos + k].Text == phrase.Words[k];
                if (ok) return true;
            }
            return false;
        }

        private CaptionParseException Error(string expected, int? back = null)
        {
            int at = back ?? _pos;
            if (at >= tokens.Count)
                return new CaptionParseException(prompt, tokens.Count, prompt.Length, null, "expected " + expected);
            var t = tokens[at];
            var text = prompt.Substring(t.Start, t.Text.Length);
            return back is null
                ? new CaptionParseException(prompt, at, t.Start, text, "expected " + expected)
                : new CaptionParseException(prompt, at, t.Start, text, expected);
        }
    }
}
