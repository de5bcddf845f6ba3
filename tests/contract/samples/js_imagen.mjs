// Gemini API documentation sample, "Generate images using the Imagen models" (JavaScript), copied VERBATIM from
// /work/shared/seeds/000_95b3e437a74a0487.txt, lines 201-225. Everything below this header is the documentation's
// code, unchanged; tests/contract/test_image_samples.py runs it.

import { GoogleGenAI } from "@google/genai";
import * as fs from "node:fs";

async function main() {

  const ai = new GoogleGenAI({});

  const response = await ai.models.generateImages({
    model: 'imagen-4.0-generate-preview-06-06',
    prompt: 'Robot holding a red skateboard',
    config: {
      numberOfImages: 4,
    },
  });

  let idx = 1;
  for (const generatedImage of response.generatedImages) {
    let imgBytes = generatedImage.image.imageBytes;
    const buffer = Buffer.from(imgBytes, "base64");
    fs.writeFileSync(`imagen-${idx}.png`, buffer);
    idx++;
  }
}

main();
