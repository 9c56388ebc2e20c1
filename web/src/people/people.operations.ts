import type * as G from '../gql/graphql';
import { op } from '../lib/graphql';

export const PEOPLE = /* GraphQL */ `
  query People($text: String) {
    people(text: $text, first: 200) {
      id
      name
      externalId
      totalTalkTimeSeconds
      enrollments {
        id
      }
    }
  }
`;

export const PERSON = /* GraphQL */ `
  query Person($id: ID!) {
    person(id: $id) {
      id
      name
      externalId
      createdAt
      totalTalkTimeSeconds
      enrollments {
        id
        source
        speechSeconds
        modelName
        createdAt
      }
      meetings {
        id
        title
        createdAt
        durationSeconds
      }
    }
  }
`;

export const CREATE_PERSON = /* GraphQL */ `
  mutation CreatePerson($input: PersonInput!) {
    createPerson(input: $input) {
      id
      name
    }
  }
`;

export const DELETE_PERSON = /* GraphQL */ `
  mutation DeletePerson($id: ID!) {
    deletePerson(id: $id)
  }
`;

export const ENROLL_FROM_UPLOADS = /* GraphQL */ `
  mutation EnrollFromUploads($personId: ID!, $uploadIds: [ID!]!) {
    enrollFromUploads(personId: $personId, uploadIds: $uploadIds) {
      id
      speechSeconds
    }
  }
`;

export const ENROLL_FROM_SPEAKER = /* GraphQL */ `
  mutation EnrollFromSpeaker($personId: ID!, $speakerId: ID!) {
    enrollFromSpeaker(personId: $personId, speakerId: $speakerId) {
      id
      speechSeconds
    }
  }
`;

export const REMOVE_ENROLLMENT = /* GraphQL */ `
  mutation RemoveEnrollment($id: ID!) {
    removeEnrollment(id: $id)
  }
`;

export const peopleOp = op<G.PeopleQuery, G.PeopleQueryVariables>(PEOPLE);
export const personOp = op<G.PersonQuery, G.PersonQueryVariables>(PERSON);
export const createPersonOp = op<G.CreatePersonMutation, G.CreatePersonMutationVariables>(CREATE_PERSON);
export const deletePersonOp = op<G.DeletePersonMutation, G.DeletePersonMutationVariables>(DELETE_PERSON);
export const enrollFromUploadsOp = op<G.EnrollFromUploadsMutation, G.EnrollFromUploadsMutationVariables>(ENROLL_FROM_UPLOADS);
export const enrollFromSpeakerOp = op<G.EnrollFromSpeakerMutation, G.EnrollFromSpeakerMutationVariables>(ENROLL_FROM_SPEAKER);
export const removeEnrollmentOp = op<G.RemoveEnrollmentMutation, G.RemoveEnrollmentMutationVariables>(REMOVE_ENROLLMENT);
