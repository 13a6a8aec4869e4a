/**
 * Word sets for measuring social and non-social associations in word
 * vectors.
 *
 * The WEAT tests are from Caliskan, Bryson & Narayanan 2017, "Semantics
 * derived automatically from language corpora contain human-like biases",
 * Science 356(6334), typed from the stimuli listed in its supplementary
 * materials (which took them from the Implicit Association Test studies
 * they replicate). Only the tests whose words are common English words are
 * here (WEAT 1, 2, 6, 7, 8, 9, 10): the name lists of WEAT 3-5 are mostly
 * absent from a corpus the size of Brown, and a test with two covered words
 * per list measures nothing.
 *
 * Every word is lowercased, as the workbook's Brown vocabulary is
 * (`brownSentences(docs, { lowercase: true })`); "Einstein", "NASA",
 * "Shakespeare" and the first names of WEAT 6 and 10 become "einstein",
 * "nasa", "shakespeare", "john", ... A lowercased name can be a common word
 * too ("bill", "mike", "brad"), whose vector then mixes both senses: worth
 * saying when a notebook reads WEAT 6 or 10 on a lowercased corpus.
 *
 * The gender pairs are from Bolukbasi, Chang, Zou, Saligrama & Kalai 2016,
 * "Man is to Computer Programmer as Woman is to Homemaker? Debiasing Word
 * Embeddings", NeurIPS: the ten definitional pairs that define the gender
 * direction, and the single-word pairs of their equalize list (their code
 * release's `equalize_pairs.json`, lowercased and deduplicated: multi-word
 * phrases such as "prostate_cancer" and the mismatched "fella"/"granny" left
 * out, "catholic_priest" shortened to "priest"). Every pair is written
 * (female, male).
 */

/** One WEAT test: targets X, Y and attributes A, B (the test asks whether X is closer to A and Y to B). */
export interface WeatWordSets {
  /** Short id, e.g. "weat1". */
  readonly id: string;
  /** What it tests, e.g. "flowers vs insects, pleasant vs unpleasant". */
  readonly title: string;
  /** Names of X, Y, A, B, e.g. ["flowers", "insects", "pleasant", "unpleasant"]. */
  readonly names: readonly [string, string, string, string];
  /** Target words X. */
  readonly x: readonly string[];
  /** Target words Y. */
  readonly y: readonly string[];
  /** Attribute words A. */
  readonly a: readonly string[];
  /** Attribute words B. */
  readonly b: readonly string[];
  /** Effect size Caliskan et al. report on Common Crawl GloVe vectors, for comparison. */
  readonly paperEffectSize: number;
}

const PLEASANT_25 = [
  "caress", "freedom", "health", "love", "peace", "cheer", "friend", "heaven", "loyal", "pleasure",
  "diamond", "gentle", "honest", "lucky", "rainbow", "diploma", "gift", "honor", "miracle", "sunrise",
  "family", "happy", "laughter", "paradise", "vacation",
] as const;

const UNPLEASANT_25 = [
  "abuse", "crash", "filth", "murder", "sickness", "accident", "death", "grief", "poison", "stink",
  "assault", "disaster", "hatred", "pollute", "tragedy", "divorce", "jail", "poverty", "ugly", "cancer",
  "kill", "rotten", "vomit", "agony", "prison",
] as const;

const freeze = (t: WeatWordSets): WeatWordSets =>
  Object.freeze({ ...t, names: Object.freeze([...t.names]) as WeatWordSets["names"], x: Object.freeze([...t.x]), y: Object.freeze([...t.y]), a: Object.freeze([...t.a]), b: Object.freeze([...t.b]) });

/**
 * The WEAT tests of Caliskan et al. 2017 that a small corpus can partly
 * cover, by id: weat1 (flowers/insects, pleasant/unpleasant), weat2
 * (instruments/weapons, pleasant/unpleasant), weat6 (male/female names,
 * career/family), weat7 (math/arts, male/female terms), weat8
 * (science/arts, male/female terms), weat9 (mental/physical disease,
 * temporary/permanent), weat10 (young/old names, pleasant/unpleasant).
 *
 * @example
 * const t = data.WEAT_TESTS.weat7;
 * evaluation.weat(vectors, vocab, t, { seed: 0 });
 */
export const WEAT_TESTS: Readonly<Record<string, WeatWordSets>> = Object.freeze({
  weat1: freeze({
    id: "weat1",
    title: "flowers vs insects, pleasant vs unpleasant",
    names: ["flowers", "insects", "pleasant", "unpleasant"],
    x: [
      "aster", "clover", "hyacinth", "marigold", "poppy", "azalea", "crocus", "iris", "orchid", "rose",
      "bluebell", "daffodil", "lilac", "pansy", "tulip", "buttercup", "daisy", "lily", "peony", "violet",
      "carnation", "gladiola", "magnolia", "petunia", "zinnia",
    ],
    y: [
      "ant", "caterpillar", "flea", "locust", "spider", "bedbug", "centipede", "fly", "maggot", "tarantula",
      "bee", "cockroach", "gnat", "mosquito", "termite", "beetle", "cricket", "hornet", "moth", "wasp",
      "blackfly", "dragonfly", "horsefly", "roach", "weevil",
    ],
    a: PLEASANT_25,
    b: UNPLEASANT_25,
    paperEffectSize: 1.5,
  }),
  weat2: freeze({
    id: "weat2",
    title: "instruments vs weapons, pleasant vs unpleasant",
    names: ["instruments", "weapons", "pleasant", "unpleasant"],
    x: [
      "bagpipe", "cello", "guitar", "lute", "trombone", "banjo", "clarinet", "harmonica", "mandolin", "trumpet",
      "bassoon", "drum", "harp", "oboe", "tuba", "bell", "fiddle", "harpsichord", "piano", "viola",
      "bongo", "flute", "horn", "saxophone", "violin",
    ],
    y: [
      "arrow", "club", "gun", "missile", "spear", "axe", "dagger", "harpoon", "pistol", "sword",
      "blade", "dynamite", "hatchet", "rifle", "tank", "bomb", "firearm", "knife", "shotgun", "teargas",
      "cannon", "grenade", "mace", "slingshot", "whip",
    ],
    a: PLEASANT_25,
    b: UNPLEASANT_25,
    paperEffectSize: 1.53,
  }),
  weat6: freeze({
    id: "weat6",
    title: "male vs female names, career vs family",
    names: ["male names", "female names", "career", "family"],
    x: ["john", "paul", "mike", "kevin", "steve", "greg", "jeff", "bill"],
    y: ["amy", "joan", "lisa", "sarah", "diana", "kate", "ann", "donna"],
    a: ["executive", "management", "professional", "corporation", "salary", "office", "business", "career"],
    b: ["home", "parents", "children", "family", "cousins", "marriage", "wedding", "relatives"],
    paperEffectSize: 1.81,
  }),
  weat7: freeze({
    id: "weat7",
    title: "math vs arts, male vs female terms",
    names: ["math", "arts", "male terms", "female terms"],
    x: ["math", "algebra", "geometry", "calculus", "equations", "computation", "numbers", "addition"],
    y: ["poetry", "art", "dance", "literature", "novel", "symphony", "drama", "sculpture"],
    a: ["male", "man", "boy", "brother", "he", "him", "his", "son"],
    b: ["female", "woman", "girl", "sister", "she", "her", "hers", "daughter"],
    paperEffectSize: 1.06,
  }),
  weat8: freeze({
    id: "weat8",
    title: "science vs arts, male vs female terms",
    names: ["science", "arts", "male terms", "female terms"],
    x: ["science", "technology", "physics", "chemistry", "einstein", "nasa", "experiment", "astronomy"],
    y: ["poetry", "art", "shakespeare", "dance", "literature", "novel", "symphony", "drama"],
    a: ["brother", "father", "uncle", "grandfather", "son", "he", "his", "him"],
    b: ["sister", "mother", "aunt", "grandmother", "daughter", "she", "hers", "her"],
    paperEffectSize: 1.24,
  }),
  weat9: freeze({
    id: "weat9",
    title: "mental vs physical disease, temporary vs permanent",
    names: ["mental disease", "physical disease", "temporary", "permanent"],
    x: ["sad", "hopeless", "gloomy", "tearful", "miserable", "depressed"],
    y: ["sick", "illness", "influenza", "disease", "virus", "cancer"],
    a: ["impermanent", "unstable", "variable", "fleeting", "short-term", "brief", "occasional"],
    b: ["stable", "always", "constant", "persistent", "chronic", "prolonged", "forever"],
    paperEffectSize: 1.38,
  }),
  weat10: freeze({
    id: "weat10",
    title: "young vs old names, pleasant vs unpleasant",
    names: ["young names", "old names", "pleasant", "unpleasant"],
    x: ["tiffany", "michelle", "cindy", "kristy", "brad", "eric", "joey", "billy"],
    y: ["ethel", "bernice", "gertrude", "agnes", "cecil", "wilbert", "mortimer", "edgar"],
    a: ["joy", "love", "peace", "wonderful", "pleasure", "friend", "laughter", "happy"],
    b: ["agony", "terrible", "horrible", "nasty", "evil", "war", "awful", "failure"],
    paperEffectSize: 1.21,
  }),
});

/**
 * The ten definitional gender pairs of Bolukbasi et al. 2016 (female,
 * male), lowercased: the pairs whose differences define the gender
 * direction.
 *
 * @example
 * evaluation.genderDirection(vectors, vocab, data.DEFINITIONAL_GENDER_PAIRS);
 */
export const DEFINITIONAL_GENDER_PAIRS: readonly (readonly [string, string])[] = Object.freeze(
  (
    [
      ["woman", "man"],
      ["girl", "boy"],
      ["she", "he"],
      ["mother", "father"],
      ["daughter", "son"],
      ["gal", "guy"],
      ["female", "male"],
      ["her", "his"],
      ["herself", "himself"],
      ["mary", "john"],
    ] as const
  ).map((p) => Object.freeze([p[0], p[1]] as const)),
);

/**
 * Single-word pairs of Bolukbasi et al.'s equalize list (female, male),
 * lowercased and deduplicated: pairs that should differ only in gender,
 * which hard debiasing makes equidistant from every neutralised word.
 *
 * @example
 * evaluation.equalize(vectors, direction, ids); // ids from data.EQUALIZE_GENDER_PAIRS via evaluation.pairCoverage
 */
export const EQUALIZE_GENDER_PAIRS: readonly (readonly [string, string])[] = Object.freeze(
  (
    [
      ["convent", "monastery"],
      ["spokeswoman", "spokesman"],
      ["nun", "priest"],
      ["mom", "dad"],
      ["women", "men"],
      ["councilwoman", "councilman"],
      ["grandma", "grandpa"],
      ["granddaughters", "grandsons"],
      ["estrogen", "testosterone"],
      ["aunt", "uncle"],
      ["wives", "husbands"],
      ["mother", "father"],
      ["she", "he"],
      ["girl", "boy"],
      ["girls", "boys"],
      ["sister", "brother"],
      ["sisters", "brothers"],
      ["businesswoman", "businessman"],
      ["chairwoman", "chairman"],
      ["filly", "colt"],
      ["congresswoman", "congressman"],
      ["moms", "dads"],
      ["gals", "dudes"],
      ["motherhood", "fatherhood"],
      ["mothers", "fathers"],
      ["sorority", "fraternity"],
      ["mare", "gelding"],
      ["lady", "gentleman"],
      ["ladies", "gentlemen"],
      ["grandmother", "grandfather"],
      ["granddaughter", "grandson"],
      ["herself", "himself"],
      ["her", "his"],
      ["queen", "king"],
      ["queens", "kings"],
      ["female", "male"],
      ["females", "males"],
      ["woman", "man"],
      ["niece", "nephew"],
      ["princess", "prince"],
      ["schoolgirl", "schoolboy"],
      ["daughter", "son"],
      ["daughters", "sons"],
    ] as const
  ).map((p) => Object.freeze([p[0], p[1]] as const)),
);
