import { rngFor } from '../util/rng.js';
import { makeSpeakers, speak } from './voices.js';

/**
 * Sentences with none of the ten Speech Commands keywords in them (as words), for the speech a
 * spotter hears between commands. Some hold near-misses ("know", "going", "upon"): a room has them.
 * Two sets, never mixed: negative streams speak STREAM_SENTENCES, training (--synth-negatives)
 * TRAINING_SENTENCES, in voices of other seeds, so a stream does not score a model on the
 * utterances it was trained on.
 */
export const STREAM_SENTENCES = [
  'The weather will be warm and sunny for most of the week.',
  'Could you pass me the salt and pepper, please?',
  'I think we should meet at the library after lunch.',
  'She bought three apples and a loaf of bread.',
  'The train to the city leaves at half past seven.',
  'My brother plays the piano every evening.',
  'Please remember to water the plants tomorrow.',
  'We watched a long film about ancient Rome.',
  'The children were laughing in the garden.',
  'It takes about twenty minutes to walk there.',
  'I know that the answer is somewhere in this book.',
  'They are going to paint the kitchen yellow.',
  'Once upon a time there was a quiet village.',
  'The coffee machine makes a strange noise.',
  'Have you seen my keys anywhere?',
  'Our neighbours have a very friendly dog.',
  'The meeting was moved to Thursday afternoon.',
  'He reads the newspaper with his breakfast.',
  'Turn the music louder, I like this song.',
  'The store closes early during the holidays.',
  'We should call your grandmother this weekend.',
  'The bus was late again this morning.',
  'I would like a cup of tea with milk.',
  'This soup needs a little more pepper.',
  'The cat is sleeping under the table.',
  'Tell me a story about the ocean.',
  'What time does the concert begin tonight?',
  'The printer is out of paper again.',
  'Let us take the longer road through the hills.',
  'Everybody enjoyed the birthday cake.',
];

export const TRAINING_SENTENCES = [
  'The garden looks beautiful in the spring.',
  'I forgot to buy eggs at the market.',
  'Her sister works at the hospital downtown.',
  'We need a new lamp for the living room.',
  'The river was cold and very clear.',
  'Did you finish reading that novel yet?',
  'They built a small cabin near the lake.',
  'The phone rang twice during dinner.',
  'My favourite colour has always been green.',
  'The teacher gave us homework for Monday.',
  'A storm is coming from the west tonight.',
  'He fixed the bicycle with an old wrench.',
  'The museum opens at ten in the morning.',
  'Would you like some more rice?',
  'The baby finally fell asleep.',
  'We planted tomatoes and beans this year.',
  'The airport was crowded with travellers.',
  'Please close the window, it is chilly.',
  'I need to charge my laptop before the trip.',
  'The parrot repeats everything it hears.',
  'Our team practised hard for the final match.',
  'The bakery sells fresh bread every day.',
  'She painted a picture of the mountains.',
  'The elevator is broken on the third floor.',
  'Somebody left an umbrella by the door.',
  'The movie was funnier than I expected.',
  'He always wears a hat in the summer.',
  'The kettle is boiling, shall I make tea?',
  'There are many stars visible tonight.',
  'Remember to bring your passport tomorrow.',
];

const spoken = new Map<string, Float32Array[]>();

/**
 * Each sentence in `speakers` synthetic voices (seeded), at `sampleRate`: the utterances of a set,
 * trimmed, peak 1. Kept for the process (synthesis takes ~0.15 s an utterance); callers must not
 * write into them.
 */
export function speakSentences(sentences: string[], speakers: number, seed: number, sampleRate: number): Float32Array[] {
  const key = JSON.stringify([sentences, speakers, seed, sampleRate]);
  const hit = spoken.get(key);
  if (hit) return hit;
  const voices = makeSpeakers(speakers, seed, { validationPercent: 10, testPercent: 20 });
  const rng = rngFor(seed, 7);
  const utterances = voices.flatMap((v) => sentences.map((text) => speak(text, v, rng, sampleRate)));
  spoken.set(key, utterances);
  return utterances;
}
