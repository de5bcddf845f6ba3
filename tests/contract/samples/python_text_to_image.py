# ruff: noqa
# Gemini API documentation sample, "Image generation (text-to-image)" (Python), copied VERBATIM from
# /work/shared/seeds/003_928aea5ef190a1bf.txt, lines 29-55. Everything below this header is the documentation's
# code, unchanged; tests/contract/test_image_samples.py runs it. The ruff directive above only keeps the linter off
# the verbatim code (its unused imports are the documentation's).

from google import genai
from google.genai import types
from PIL import Image
from io import BytesIO
import base64

client = genai.Client()

contents = ('Hi, can you create a 3d rendered image of a pig '
            'with wings and a top hat flying over a happy '
            'futuristic scifi city with lots of greenery?')

response = client.models.generate_content(
    model="gemini-2.0-flash-preview-image-generation",
    contents=contents,
    config=types.GenerateContentConfig(
      response_modalities=['TEXT', 'IMAGE']
    )
)

for part in response.candidates[0].content.parts:
  if part.text is not None:
    print(part.text)
  elif part.inline_data is not None:
    image = Image.open(BytesIO((part.inline_data.data)))
    image.save('gemini-native-image.png')
    image.show()
